import { protocolError } from '../../../errors.js';
import { type Frame, type Headers, type HeartBeat, parseHeartBeat, type StompVersion, SUPPORTED_VERSIONS } from '../../../stomp/index.js';
import { BRIDGE_SECRET_HEADER } from '../peer.js';
import { isLoopback } from '../../../transport/link.js';
import type { Subject } from '../../../security/users.js';
import type { StompConnection } from '../connection.js';

/** CONNECT / STOMP: version negotiation (the highest in common; 1.0 without accept-version, as ActiveMQ), heart-beats, client id, peers. */
export function handleConnect(c: StompConnection, frame: Frame): void {
  const h = frame.headers;
  const accepted = h['accept-version'];
  let version: StompVersion = '1.0';
  if (accepted !== undefined) {
    const offered = accepted.split(',').map((v) => v.trim());
    const common = SUPPORTED_VERSIONS.filter((v) => offered.includes(v));
    if (common.length === 0) throw protocolError('STOMP_VERSION', accepted, SUPPORTED_VERSIONS.join(', '));
    version = common[common.length - 1];
  }
  let heartBeat: HeartBeat = { send: 0, receive: 0 };
  if (version !== '1.0') {
    const parsed = parseHeartBeat(h['heart-beat'], c.options.defaultHeartBeat);
    if (!parsed) throw protocolError('STOMP_HEART_BEAT', h['heart-beat']!);
    heartBeat = parsed;
  }
  const subject = c.ctx.security.authenticate(h.login, h.passcode);
  if (subject instanceof Promise) c.waitFor(subject, (s) => accept(c, h, version, heartBeat, s), h.receipt);
  else accept(c, h, version, heartBeat, subject);
}

/** The rest of CONNECT, once the client is known to be `subject`. */
function accept(c: StompConnection, h: Headers, version: StompVersion, heartBeat: HeartBeat, subject: Subject): void {
  c.subject = subject;
  const protocol = c.ctx.peerProtocols.find((p) => h[p.connectHeader] !== undefined);
  if (protocol) {
    // A bridge sets message ids, paths and timestamps: only a connection trusted as one may be.
    if (!c.ctx.security.mayBridge(c.subject, h[BRIDGE_SECRET_HEADER], isLoopback(c.remoteAddress))) throw protocolError('STOMP_NOT_A_BRIDGE', c.subject.user);
    c.peer = protocol.open(h[protocol.connectHeader], c);
  }
  const clientId = h['client-id'];
  if (clientId !== undefined && clientId !== '') {
    c.ctx.claimClientId(clientId, c);
    c.clientId = clientId;
  }
  // As ActiveMQ: the reply swaps the client's proposal (we write at its receive interval, read at its send interval).
  c.connected(version, heartBeat, {
    version,
    session: c.clientId ?? c.connectionId,
    server: c.ctx.server,
    'heart-beat': `${heartBeat.receive},${heartBeat.send}`,
    ...c.peer?.connectedHeaders,
  });
  c.ctx.advisories.connectionAdded({ connectionId: c.connectionId, clientId: c.clientId, remoteAddress: c.remoteAddress });
  c.announced = true;
  c.ctx.logger.debug({ connection: c.connectionId, remote: c.remoteAddress, version, clientId: c.clientId }, 'STOMP connection established');
}

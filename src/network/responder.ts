/**
 * The responder end of network bridges: what a broker does when another
 * broker's bridge connects to it (ActiveMQ's "responder end of duplex
 * bridge"). A PeerProtocol of the STOMP layer: the bridge's SENDs come in
 * batches (./batch.ts), whose messages keep their identity and are checked
 * for duplicates; its SUBSCRIBEs make network consumers that follow the
 * forwarding rules and get their messages in batches too.
 */
import type { BrokerMessage, ExtensionHost, Headers, PeerConnection, PeerConsumer, PeerMessage, PeerProtocol, PeerSession } from '../broker/extension.js';
import { AmqSimError, protocolError } from '../errors.js';
import {
  advisoryRemoteIp,
  BRIDGE_HEADER,
  type BridgeHello,
  BROKER_HEADER,
  mayForward,
  NETWORK_CONSUMER_HEADER,
  NetworkDuplicates,
  parseConsumerSpec,
  parseHello,
} from './protocol.js';
import { BATCH_BYTES, BATCH_HEADER, decodeBatch, encodeBatch } from './batch.js';
import type { Frame } from '../stomp/index.js';

export interface InboundBridge {
  remoteBrokerName: string;
  remoteAddress: string;
  connector: string;
  createdByDuplex: boolean;
  since: string;
  connectionId: string;
}

export class NetworkResponder implements PeerProtocol {
  readonly connectHeader = BRIDGE_HEADER;
  readonly reservedHeaders = [NETWORK_CONSUMER_HEADER, BATCH_HEADER];
  private readonly duplicates: NetworkDuplicates;
  private readonly inbound = new Map<string, InboundBridge>();
  /** The identity of each message out of a batch, by its SEND's headers (a SEND held by flow control comes back with them). */
  private readonly unbatched = new WeakMap<Headers, PeerMessage>();

  constructor(private readonly host: ExtensionHost) {
    this.duplicates = new NetworkDuplicates(host.brokerName);
  }

  get bridges(): InboundBridge[] {
    return [...this.inbound.values()];
  }

  open(value: string, connection: PeerConnection): PeerSession {
    const hello = checked(() => parseHello(value), BRIDGE_HEADER);
    const host = this.host;
    const local = host.brokerName;
    if (hello.duplex) host.logger.info({ remote: hello.brokerName }, `Started responder end of duplex bridge ${hello.connector}@${hello.brokerId}`);
    host.logger.info(
      { remote: hello.brokerName, address: connection.remoteAddress },
      `Network connection between vm://${local} and ${connection.remoteAddress} (${hello.brokerName}) has been established.`,
    );
    this.inbound.set(connection.connectionId, {
      remoteBrokerName: hello.brokerName,
      remoteAddress: connection.remoteAddress,
      connector: hello.connector,
      createdByDuplex: hello.duplex,
      since: new Date().toISOString(),
      connectionId: connection.connectionId,
    });
    host.advisories.bridgeStarted({
      bridgeId: connection.connectionId,
      remoteBrokerName: hello.brokerName,
      remoteBrokerId: hello.brokerId,
      remoteBrokerURL: hello.brokerURL ?? '',
      remoteIp: advisoryRemoteIp(connection.remoteAddress, portOf(host.brokerURL)),
      createdByDuplex: hello.duplex,
      duplex: hello.duplex,
      networkProperties: hello.networkProperties ?? '',
    });
    return {
      connectedHeaders: { [BROKER_HEADER]: JSON.stringify({ brokerName: local, brokerId: host.brokerId, brokerURL: host.brokerURL }) },
      received: (h) => this.received(h),
      unbatch: (frame) => this.unbatch(frame),
      kept: (h) => this.kept(h),
      subscribed: (h) => this.subscribed(h, hello),
      closed: () => this.closed(connection, hello),
    };
  }

  private received(h: Headers): PeerMessage | 'duplicate' | undefined {
    const m = this.unbatched.get(h);
    if (m === undefined) return undefined;
    return this.duplicates.isDuplicate(h.destination ?? '', m.id, m.brokerPath) ? 'duplicate' : m;
  }

  private kept(h: Headers): void {
    const m = this.unbatched.get(h);
    if (m !== undefined) this.duplicates.remember(h.destination ?? '', m.id);
  }

  /** A forwarding bridge's SEND of many messages: one SEND each, the batch's receipt on the last. */
  private unbatch(frame: Frame): Frame[] | undefined {
    const count = frame.headers[BATCH_HEADER];
    if (count === undefined) return undefined;
    const entries = checked(() => decodeBatch(frame.body, count), BATCH_HEADER);
    const receipt = frame.headers.receipt;
    return entries.map((e, i) => {
      const headers: Headers = Object.create(null);
      headers.destination = e.destination;
      for (const k in e.headers) if (!(k in headers)) headers[k] = e.headers[k];
      if (receipt !== undefined && i === entries.length - 1) headers.receipt = receipt;
      this.unbatched.set(headers, e);
      return { command: 'SEND', headers, body: e.body };
    });
  }

  private subscribed(h: Headers, hello: BridgeHello): PeerConsumer | undefined {
    const value = h[NETWORK_CONSUMER_HEADER];
    if (value === undefined) return undefined;
    const spec = checked(() => parseConsumerSpec(value), NETWORK_CONSUMER_HEADER);
    const local = this.host.brokerName;
    const router = this.host.router;
    const target = spec.path[0] ?? hello.brokerName;
    return {
      priority: spec.priority,
      affinity: hello.brokerName,
      brokerPath: spec.path,
      accepts: (m: BrokerMessage) =>
        m.brokerPath.length === 0 ||
        mayForward(m.brokerPath, target, m.destination.type === 'queue', spec, () => router.queues.get(m.destination.key)?.hasLocalConsumers ?? false, m.arrivedAt),
      batchBytes: BATCH_BYTES,
      batch: (deliveries) => ({ headerLines: `${BATCH_HEADER}:${deliveries.length}\n`, body: encodeBatch(deliveries, local) }),
    };
  }

  private closed(connection: PeerConnection, hello: BridgeHello): void {
    if (!this.inbound.delete(connection.connectionId)) return;
    this.host.logger.info({ remote: hello.brokerName }, `${this.host.brokerName} bridge to ${hello.brokerName} stopped`);
    this.host.advisories.bridgeStopped(connection.connectionId);
  }
}

function portOf(url: string): number | undefined {
  const m = /:(\d+)(?:[/?]|$)/.exec(url);
  return m ? Number(m[1]) : undefined;
}

/** A peer's malformed header is its protocol error: ERROR and close, with the reason. */
function checked<T>(parse: () => T, header: string): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof AmqSimError) throw protocolError('STOMP_PEER_HELLO', header, err.message);
    throw err;
  }
}

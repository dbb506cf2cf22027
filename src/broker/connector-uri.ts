import { parseSimpleUri, UriOptions } from '../config/uri.js';
import { configError } from '../errors.js';
import { DEFAULT_PARSER_LIMITS } from '../stomp/index.js';
import { parseHeartBeat } from '../stomp/heart-beat.js';
import type { ConnectionOptions } from './stomp/connection.js';

export interface TransportConnectorSpec {
  /** `stomp` (plain TCP) or `ws` (STOMP over WebSocket). */
  kind: 'stomp' | 'ws';
  /** The scheme as written (`stomp`, `stomp+nio`, `stomp+ssl`, `ws`, `wss`). */
  scheme: string;
  /** Over TLS (`stomp+ssl`, `stomp+nio+ssl`, `wss`), with the broker's sslContext. */
  tls: boolean;
  /** ActiveMQ `needClientAuth`: TLS clients must present a certificate the sslContext CA signed. */
  needClientAuth: boolean;
  /** ActiveMQ `transport.enabledProtocols` (`TLSv1.2,TLSv1.3`): the TLS versions offered; empty = Node's defaults. */
  enabledProtocols: Array<'TLSv1.2' | 'TLSv1.3'>;
  host: string;
  port: number;
  /** ActiveMQ `maximumConnections` (default unlimited, as ActiveMQ's Integer.MAX_VALUE). */
  maximumConnections: number;
  connection: ConnectionOptions;
  /** The URI as given, for logs. */
  text: string;
  query: string;
}

// ActiveMQ's OpenWire addresses (tcp, nio, auto) are served as STOMP too: amq-sim's bridges dial them (an activemq.xml
// hub and edges work unchanged), and an OpenWire client is told amq-sim speaks STOMP only.
const SCHEMES: Record<string, 'stomp' | 'ws'> = {
  stomp: 'stomp', 'stomp+nio': 'stomp', 'stomp+tcp': 'stomp', 'stomp+ssl': 'stomp', 'stomp+nio+ssl': 'stomp', ws: 'ws', wss: 'ws',
  tcp: 'stomp', nio: 'stomp', auto: 'stomp', 'auto+nio': 'stomp', ssl: 'stomp', 'nio+ssl': 'stomp', 'auto+ssl': 'stomp', 'auto+nio+ssl': 'stomp',
};
const TLS_SCHEMES = new Set(['stomp+ssl', 'stomp+nio+ssl', 'wss', 'ssl', 'nio+ssl', 'auto+ssl', 'auto+nio+ssl']);
const DEFAULT_PORTS: Record<'stomp' | 'ws', number> = { stomp: 61613, ws: 61614 };

/** Transport connector options and their defaults (ActiveMQ's names; amq-sim's own marked). */
export const TRANSPORT_DEFAULTS = {
  /** ActiveMQ `maximumConnections`: unlimited (Integer.MAX_VALUE). */
  maximumConnections: Number.MAX_SAFE_INTEGER,
  /** ActiveMQ `transport.hbGracePeriodMultiplier`. */
  hbGracePeriodMultiplier: 1,
  /** ActiveMQ `transport.defaultHeartBeat`. */
  defaultHeartBeat: '0,0',
  /** ActiveMQ `transport.connectAttemptTimeout`, ms. */
  connectAttemptTimeout: 30_000,
  /** amq-sim: ms a started frame may go without a byte. */
  partialFrameTimeout: 30_000,
} as const;

/** Options of a connection that came by no connector (`broker.handle(link)`). */
export const DEFAULT_CONNECTION_OPTIONS: ConnectionOptions = {
  hbGracePeriodMultiplier: TRANSPORT_DEFAULTS.hbGracePeriodMultiplier,
  defaultHeartBeat: { send: 0, receive: 0 },
  connectAttemptTimeout: TRANSPORT_DEFAULTS.connectAttemptTimeout,
  partialFrameTimeout: TRANSPORT_DEFAULTS.partialFrameTimeout,
  limits: DEFAULT_PARSER_LIMITS,
};

/**
 * Reads a transport connector URI such as
 * `stomp://0.0.0.0:61613?maximumConnections=1000&wireFormat.maxFrameSize=104857600`.
 * Unknown options are refused, as ActiveMQ refuses them ("Invalid connect parameters").
 */
export function parseTransportUri(text: string): TransportConnectorSpec {
  const uri = parseSimpleUri(text);
  const kind = SCHEMES[uri.scheme];
  if (!kind) throw configError('CONFIG_URI', text, `transport scheme '${uri.scheme}' is not supported: amq-sim speaks STOMP over stomp://, stomp+nio://, stomp+ssl://, ws:// and wss:// (and serves ActiveMQ's tcp://, nio://, auto:// addresses to its bridges)`);
  const o = new UriOptions(uri.params, text);
  const maxFrameSize = o.number('wireFormat.maxFrameSize', DEFAULT_PARSER_LIMITS.maxFrameSize, { min: 1024 });
  const maxDataLength = o.number('wireFormat.maxDataLength', maxFrameSize, { min: 1 });
  const defaultHeartBeatText = o.string('transport.defaultHeartBeat', TRANSPORT_DEFAULTS.defaultHeartBeat);
  const defaultHeartBeat = parseHeartBeat(defaultHeartBeatText);
  if (!defaultHeartBeat) throw configError('CONFIG_URI_OPTION', 'transport.defaultHeartBeat', defaultHeartBeatText, text, 'expected cx,cy');
  const tls = TLS_SCHEMES.has(uri.scheme);
  const needClientAuth = o.boolean('needClientAuth', false);
  const protocolsText = o.string('transport.enabledProtocols', '');
  const enabledProtocols = protocolsText === '' ? [] : protocolsText.split(',').map((p) => p.trim());
  const unknown = enabledProtocols.find((p) => p !== 'TLSv1.2' && p !== 'TLSv1.3');
  if (unknown !== undefined) throw configError('CONFIG_URI_OPTION', 'transport.enabledProtocols', protocolsText, text, 'TLSv1.2 and/or TLSv1.3');
  if (needClientAuth && !tls) throw configError('CONFIG_URI_OPTION', 'needClientAuth', 'true', text, 'only a TLS connector (stomp+ssl://, wss://) asks for client certificates');
  const spec: TransportConnectorSpec = {
    kind,
    scheme: uri.scheme,
    tls,
    needClientAuth,
    enabledProtocols: enabledProtocols as Array<'TLSv1.2' | 'TLSv1.3'>,
    host: uri.host || '0.0.0.0',
    port: uri.port >= 0 ? uri.port : DEFAULT_PORTS[kind],
    maximumConnections: o.number('maximumConnections', TRANSPORT_DEFAULTS.maximumConnections, { min: 1 }),
    connection: {
      hbGracePeriodMultiplier: o.number('transport.hbGracePeriodMultiplier', TRANSPORT_DEFAULTS.hbGracePeriodMultiplier, { min: 0 }),
      defaultHeartBeat,
      connectAttemptTimeout: o.number('transport.connectAttemptTimeout', TRANSPORT_DEFAULTS.connectAttemptTimeout, { min: 1 }),
      partialFrameTimeout: o.number('transport.partialFrameTimeout', TRANSPORT_DEFAULTS.partialFrameTimeout, { min: 1 }),
      limits: {
        maxFrameSize: Math.min(maxFrameSize, maxDataLength),
        maxHeaders: o.number('wireFormat.maxHeaders', DEFAULT_PARSER_LIMITS.maxHeaders, { min: 1 }),
        maxHeaderLineLength: o.number('wireFormat.maxHeaderLength', DEFAULT_PARSER_LIMITS.maxHeaderLineLength, { min: 64 }),
      },
    },
    text,
    query: text.includes('?') ? text.slice(text.indexOf('?')) : '',
  };
  // Accepted for configs copied from ActiveMQ; they change nothing here.
  o.accept('transport.closeAsync', 'transport.tcpNoDelay', 'transport.trace', 'transport.soTimeout');
  o.assertAllUsed();
  return spec;
}

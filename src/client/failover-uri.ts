import { parseUri, parseSimpleUri, UriOptions } from '../config/uri.js';
import { configError } from '../errors.js';

export interface BrokerAddress {
  scheme: 'stomp' | 'ws';
  /** Over TLS: stomp+ssl:// (ssl://) or wss://. */
  tls: boolean;
  host: string;
  port: number;
  /** `ws://host:port/path` for WebSocket endpoints. */
  url: string;
}

/** ActiveMQ's failover transport options, with its names and defaults. */
export interface FailoverOptions {
  randomize: boolean;
  initialReconnectDelay: number;
  maxReconnectDelay: number;
  useExponentialBackOff: boolean;
  reconnectDelayExponent: number;
  /** -1 = forever, 0 = no reconnect after a connection was lost. */
  maxReconnectAttempts: number;
  /** Attempts for the first connection; -1 = use maxReconnectAttempts. */
  startupMaxReconnectAttempts: number;
}

export interface ConnectTarget {
  addresses: BrokerAddress[];
  failover: FailoverOptions | null;
}

export const DEFAULT_FAILOVER: Readonly<FailoverOptions> = {
  randomize: true,
  initialReconnectDelay: 10,
  maxReconnectDelay: 30_000,
  useExponentialBackOff: true,
  reconnectDelayExponent: 2,
  maxReconnectAttempts: -1,
  startupMaxReconnectAttempts: -1,
};

/** ActiveMQ's OpenWire schemes (tcp, nio, auto) name an amq-sim broker's port that serves STOMP too. */
const CLIENT_SCHEMES: Record<string, 'stomp' | 'ws'> = {
  stomp: 'stomp', 'stomp+nio': 'stomp', tcp: 'stomp', nio: 'stomp', auto: 'stomp', ws: 'ws', 'stomp+ssl': 'stomp', 'stomp+nio+ssl': 'stomp', ssl: 'stomp', 'nio+ssl': 'stomp', 'auto+ssl': 'stomp', wss: 'ws',
};
const TLS_SCHEMES = new Set(['stomp+ssl', 'stomp+nio+ssl', 'ssl', 'nio+ssl', 'auto+ssl', 'wss']);

export function parseBrokerAddress(text: string): BrokerAddress {
  const uri = parseSimpleUri(text);
  const scheme = CLIENT_SCHEMES[uri.scheme];
  if (!scheme) throw configError('CONFIG_URI', text, `unsupported scheme '${uri.scheme}': use stomp://host:port, stomp+ssl://host:port, ws://host:port or wss://host:port`);
  const tls = TLS_SCHEMES.has(uri.scheme);
  const host = uri.host === '' || uri.host === '0.0.0.0' ? '127.0.0.1' : uri.host;
  const port = uri.port >= 0 ? uri.port : scheme === 'ws' ? 61614 : 61613;
  const shown = scheme === 'ws' ? (tls ? 'wss' : 'ws') : tls ? 'stomp+ssl' : 'stomp';
  return { scheme, tls, host, port, url: `${shown}://${host}:${port}${uri.path}` };
}

/** `stomp://h:p`, or `failover:(stomp://a:1,stomp://b:2)?randomize=false&...`. */
export function parseConnectTarget(text: string): ConnectTarget {
  const uri = parseUri(text);
  if (uri.kind === 'simple') return { addresses: [parseBrokerAddress(text)], failover: null };
  if (uri.scheme !== 'failover') throw configError('CONFIG_URI', text, 'a client connects to stomp://host:port or failover:(...)');
  const o = new UriOptions(uri.params, text);
  const failover: FailoverOptions = {
    randomize: o.boolean('randomize', DEFAULT_FAILOVER.randomize),
    initialReconnectDelay: o.number('initialReconnectDelay', DEFAULT_FAILOVER.initialReconnectDelay, { min: 0 }),
    maxReconnectDelay: o.number('maxReconnectDelay', DEFAULT_FAILOVER.maxReconnectDelay, { min: 0 }),
    useExponentialBackOff: o.boolean('useExponentialBackOff', DEFAULT_FAILOVER.useExponentialBackOff),
    reconnectDelayExponent: o.number('reconnectDelayExponent', DEFAULT_FAILOVER.reconnectDelayExponent, { min: 1 }),
    maxReconnectAttempts: o.number('maxReconnectAttempts', DEFAULT_FAILOVER.maxReconnectAttempts, { min: -1 }),
    startupMaxReconnectAttempts: o.number('startupMaxReconnectAttempts', DEFAULT_FAILOVER.startupMaxReconnectAttempts, { min: -1 }),
  };
  o.accept('timeout', 'backup', 'trackMessages', 'priorityBackup', 'updateURIsSupported', 'warnAfterReconnectAttempts', 'maxCacheSize');
  o.assertAllUsed();
  return { addresses: uri.components.map(parseBrokerAddress), failover };
}

/** Delay before reconnect attempt `attempt` (0-based), as ActiveMQ's failover transport computes it. */
export function reconnectDelay(options: FailoverOptions, attempt: number): number {
  if (!options.useExponentialBackOff) return options.initialReconnectDelay;
  return Math.min(options.maxReconnectDelay, options.initialReconnectDelay * Math.pow(options.reconnectDelayExponent, attempt));
}

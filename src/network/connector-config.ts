/**
 * Network connector URIs, in ActiveMQ's forms and with its option names:
 *
 *   static:(stomp://h1:61616,stomp://h2:61616)?duplex=true&networkTTL=2
 *   masterslave:(stomp://master:61616,stomp://slave:61616)
 *   static:(failover:(stomp://a:61616,stomp://b:61616))
 *
 * `static:` makes one bridge per URI in the list; a `failover:` URI inside it,
 * or `masterslave:`, makes one bridge that dials its addresses in turn.
 */
import { destination, matchesWildcard, type Destination } from '../broker/extension.js';
import { parseBrokerAddress, type BrokerAddress } from '../client/failover-uri.js';
import { parseUri, UriOptions } from '../config/uri.js';
import { configError } from '../errors.js';

export interface NetworkOptions {
  /** ActiveMQ `name` (default NC): names the bridges in logs and status. */
  name: string;
  duplex: boolean;
  conduitSubscriptions: boolean;
  /** Hops a message may travel (ActiveMQ messageTTL; networkTTL sets both). */
  messageTTL: number;
  /** Hops a consumer's demand may travel (ActiveMQ consumerTTL). */
  consumerTTL: number;
  decreaseNetworkConsumerPriority: boolean;
  consumerPriorityBase: number;
  /** Accepted for configs copied from ActiveMQ: durable subscriptions are not bridged. */
  dynamicOnly: boolean;
  prefetchSize: number;
  dynamicallyIncludedDestinations: Destination[];
  excludedDestinations: Destination[];
  staticallyIncludedDestinations: Destination[];
  initialReconnectDelay: number;
  maxReconnectDelay: number;
  useExponentialBackOff: boolean;
  backOffMultiplier: number;
  /** 0 = forever. */
  maxReconnectAttempts: number;
  /** A bridge that lived at least this long starts its back-off again from initialReconnectDelay. */
  minConnectTime: number;
  replayWhenNoConsumers: boolean;
  replayDelay: number;
  /** amq-sim: heart-beat interval on the bridge's connection, ms (0: none); a silent link is dropped after two. */
  bridgeHeartBeat: number;
  /** amq-sim: a forwarded message or a bridge request unanswered for this long means the bridge is stalled (ms; 0 = never). */
  progressTimeout: number;
  /** ActiveMQ's networkConnector userName / password: what the bridge authenticates as on the remote broker. */
  userName: string | null;
  password: string | null;
}

export interface NetworkConnectorSpec {
  uri: string;
  options: NetworkOptions;
  /** One entry per bridge: the addresses that bridge dials, in turn. */
  bridges: BrokerAddress[][];
}

function destinations(list: string, option: string, uri: string): Destination[] {
  if (list.trim() === '') return [];
  return list.split(',').map((raw) => {
    const d = raw.trim();
    const m = /^(?:(queue|topic):\/\/|\/(queue|topic)\/)(.+)$/.exec(d);
    if (!m) throw configError('CONFIG_URI_OPTION', option, d, uri, 'use queue://NAME, topic://NAME, /queue/NAME or /topic/NAME; wildcards . * > allowed');
    return destination((m[1] ?? m[2]) as 'queue' | 'topic', m[3]);
  });
}

function addresses(component: string, whole: string): BrokerAddress[] {
  const inner = parseUri(component);
  if (inner.kind === 'composite') {
    if (inner.scheme !== 'failover') throw configError('CONFIG_URI', whole, `only failover:(...) may be nested, not ${inner.scheme}:`);
    return inner.components.map(parseBrokerAddress);
  }
  return [parseBrokerAddress(component)];
}

/**
 * Network connector options and their defaults: ActiveMQ's names and values
 * (NetworkBridgeConfiguration, SimpleDiscoveryAgent), amq-sim's own marked.
 */
export const NETWORK_DEFAULTS = {
  name: 'NC',
  duplex: false,
  conduitSubscriptions: true,
  networkTTL: 1,
  decreaseNetworkConsumerPriority: false,
  consumerPriorityBase: -5,
  dynamicOnly: false,
  prefetchSize: 1000,
  initialReconnectDelay: 1000,
  maxReconnectDelay: 30_000,
  useExponentialBackOff: true,
  backOffMultiplier: 2,
  maxReconnectAttempts: 0,
  minConnectTime: 5000,
  replayWhenNoConsumers: false,
  replayDelay: 1000,
  /** amq-sim: STOMP heart-beat on the bridge, ms (0: none). */
  bridgeHeartBeat: 1000,
  /** amq-sim: a forwarded message or request unanswered this long means the bridge is stalled, ms (0: never). */
  progressTimeout: 5000,
} as const;

/** Accepted for configs copied from ActiveMQ; no effect in amq-sim. */
export const ACCEPTED_NETWORK_OPTIONS = ['bridgeTempDestinations', 'suppressDuplicateTopicSubscriptions', 'alwaysSyncSend', 'dispatchAsync', 'advisoryPrefetchSize', 'advisoryAckPercentage'];

/**
 * Faults `amq-sim bridge <action>` puts on a bridge's connection:
 * - stall: frames stop both ways, heart-beats flow (a bridge that looks healthy and forwards nothing; the progress watchdog finds it);
 * - blackhole: nothing moves, heart-beats included (a silently dead link; the heart-beat finds it);
 * - delay: every chunk held `ms` (a slow link);
 * - cut: the connection closes (a crash of the link; it reconnects);
 * - heal: lifts stall, blackhole or delay.
 */
export const FAULT_ACTIONS = ['stall', 'blackhole', 'delay', 'cut', 'heal'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

export function parseNetworkUri(text: string, overrides: Record<string, string> = {}): NetworkConnectorSpec {
  const invalid = (reason: string) => configError('CONFIG_NETWORK_URI', text, reason);
  let uri;
  try {
    uri = parseUri(text);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  if (uri.kind !== 'composite' || (uri.scheme !== 'static' && uri.scheme !== 'masterslave')) {
    throw invalid('expected static:(stomp://host:port,...) or masterslave:(stomp://master:port,stomp://slave:port)');
  }
  const d = NETWORK_DEFAULTS;
  const o = new UriOptions({ ...uri.params, ...overrides }, text);
  const networkTTL = o.number('networkTTL', d.networkTTL, { min: 1 });
  const options: NetworkOptions = {
    name: o.string('name', d.name),
    duplex: o.boolean('duplex', d.duplex),
    conduitSubscriptions: o.boolean('conduitSubscriptions', d.conduitSubscriptions),
    messageTTL: o.number('messageTTL', networkTTL, { min: 1 }),
    consumerTTL: o.number('consumerTTL', networkTTL, { min: 1 }),
    decreaseNetworkConsumerPriority: o.boolean('decreaseNetworkConsumerPriority', d.decreaseNetworkConsumerPriority),
    consumerPriorityBase: o.number('consumerPriorityBase', d.consumerPriorityBase),
    dynamicOnly: o.boolean('dynamicOnly', d.dynamicOnly),
    prefetchSize: o.number('prefetchSize', d.prefetchSize, { min: 1 }),
    dynamicallyIncludedDestinations: destinations(o.string('dynamicallyIncludedDestinations', ''), 'dynamicallyIncludedDestinations', text),
    excludedDestinations: destinations(o.string('excludedDestinations', ''), 'excludedDestinations', text),
    staticallyIncludedDestinations: destinations(o.string('staticallyIncludedDestinations', ''), 'staticallyIncludedDestinations', text),
    initialReconnectDelay: o.number('initialReconnectDelay', d.initialReconnectDelay, { min: 0 }),
    maxReconnectDelay: o.number('maxReconnectDelay', d.maxReconnectDelay, { min: 0 }),
    useExponentialBackOff: o.boolean('useExponentialBackOff', d.useExponentialBackOff),
    backOffMultiplier: o.number('backOffMultiplier', d.backOffMultiplier, { min: 1 }),
    maxReconnectAttempts: o.number('maxReconnectAttempts', d.maxReconnectAttempts, { min: 0 }),
    minConnectTime: o.number('minConnectTime', d.minConnectTime, { min: 0 }),
    replayWhenNoConsumers: o.boolean('replayWhenNoConsumers', d.replayWhenNoConsumers),
    replayDelay: o.number('replayDelay', d.replayDelay, { min: 0 }),
    bridgeHeartBeat: o.number('bridgeHeartBeat', d.bridgeHeartBeat, { min: 0 }),
    progressTimeout: o.number('progressTimeout', d.progressTimeout, { min: 0 }),
    userName: o.string('userName', '') || null,
    password: o.string('password', '') || null,
  };
  o.accept(...ACCEPTED_NETWORK_OPTIONS);
  o.assertAllUsed();
  if (options.name.includes(',')) throw invalid(`the connector name '${options.name}' may not contain ','`);
  let bridges: BrokerAddress[][];
  try {
    bridges = uri.scheme === 'masterslave' ? [uri.components.flatMap((c) => addresses(c, text))] : uri.components.map((c) => addresses(c, text));
  } catch (err) {
    throw invalid((err as Error).message);
  }
  return { uri: text, options, bridges };
}

/** The connector's settings as ActiveMQ prints a NetworkBridgeConfiguration's properties: `{conduitSubscriptions=true, duplex=true, ...}`. */
export function networkProperties(o: NetworkOptions): string {
  const list = (ds: Destination[]) => ds.map((d) => d.key).join(',');
  const entries: Array<[string, unknown]> = [
    // The password never leaves the broker (advisories, status).
    ...Object.entries(o).filter(([k, v]) => !Array.isArray(v) && k !== 'password'),
    ['dynamicallyIncludedDestinations', list(o.dynamicallyIncludedDestinations)],
    ['excludedDestinations', list(o.excludedDestinations)],
    ['staticallyIncludedDestinations', list(o.staticallyIncludedDestinations)],
  ];
  return `{${entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ')}}`;
}

/** Whether demand for this destination crosses the bridge (ActiveMQ's excluded and dynamically included destinations). */
export function bridged(d: Destination, o: NetworkOptions): boolean {
  const matches = (list: Destination[]) => list.some((p) => p.type === d.type && matchesWildcard(p.name, d.name));
  if (d.temporary || d.name.startsWith('ActiveMQ.Advisory.')) return false;
  if (matches(o.excludedDestinations)) return false;
  return o.dynamicallyIncludedDestinations.length === 0 || matches(o.dynamicallyIncludedDestinations);
}

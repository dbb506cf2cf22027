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
import { parseBrokerAddress, type BrokerAddress } from '../client/failover-uri.js';
import { ConfigError } from '../config/broker-config.js';
import { parseUri, UriError, UriOptions } from '../config/uri.js';
import { destination, type Destination } from '../broker/destination.js';
import { matchesWildcard } from '../broker/wildcard.js';

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
  /** amq-sim: heart-beat interval on the bridge's connection, ms; a silent link is dropped after two. */
  bridgeHeartBeat: number;
  /** amq-sim: a forwarded message or a bridge request unanswered for this long means the bridge is stalled (ms; 0 = never). */
  progressTimeout: number;
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
    if (!m) throw new UriError(`Invalid destination '${d}' in option '${option}' of '${uri}': use queue://NAME, topic://NAME, /queue/NAME or /topic/NAME (wildcards . * > allowed)`);
    return destination((m[1] ?? m[2]) as 'queue' | 'topic', m[3]);
  });
}

function addresses(component: string, whole: string): BrokerAddress[] {
  const inner = parseUri(component);
  if (inner.kind === 'composite') {
    if (inner.scheme !== 'failover') throw new UriError(`Only failover:(...) may be nested in '${whole}', not ${inner.scheme}:`);
    return inner.components.map(parseBrokerAddress);
  }
  if (inner.scheme === 'tcp') throw new UriError(`'${component}' in '${whole}': amq-sim brokers talk STOMP, use stomp://host:port`);
  return [parseBrokerAddress(component)];
}

export function parseNetworkUri(text: string, overrides: Record<string, string> = {}): NetworkConnectorSpec {
  let uri;
  try {
    uri = parseUri(text);
  } catch (err) {
    throw new ConfigError(`Invalid network connector URI '${text}': ${(err as Error).message}`);
  }
  if (uri.kind !== 'composite' || (uri.scheme !== 'static' && uri.scheme !== 'masterslave')) {
    throw new ConfigError(`Invalid network connector URI '${text}': expected static:(stomp://host:port,...) or masterslave:(stomp://master:port,stomp://slave:port)`);
  }
  const o = new UriOptions({ ...uri.params, ...overrides }, text);
  const networkTTL = o.number('networkTTL', 1, { min: 1 });
  const options: NetworkOptions = {
    name: o.string('name', 'NC'),
    duplex: o.boolean('duplex', false),
    conduitSubscriptions: o.boolean('conduitSubscriptions', true),
    messageTTL: o.number('messageTTL', networkTTL, { min: 1 }),
    consumerTTL: o.number('consumerTTL', networkTTL, { min: 1 }),
    decreaseNetworkConsumerPriority: o.boolean('decreaseNetworkConsumerPriority', false),
    consumerPriorityBase: o.number('consumerPriorityBase', -5),
    dynamicOnly: o.boolean('dynamicOnly', false),
    prefetchSize: o.number('prefetchSize', 1000, { min: 1 }),
    dynamicallyIncludedDestinations: destinations(o.string('dynamicallyIncludedDestinations', ''), 'dynamicallyIncludedDestinations', text),
    excludedDestinations: destinations(o.string('excludedDestinations', ''), 'excludedDestinations', text),
    staticallyIncludedDestinations: destinations(o.string('staticallyIncludedDestinations', ''), 'staticallyIncludedDestinations', text),
    initialReconnectDelay: o.number('initialReconnectDelay', 1000, { min: 0 }),
    maxReconnectDelay: o.number('maxReconnectDelay', 30_000, { min: 0 }),
    useExponentialBackOff: o.boolean('useExponentialBackOff', true),
    backOffMultiplier: o.number('backOffMultiplier', 2, { min: 1 }),
    maxReconnectAttempts: o.number('maxReconnectAttempts', 0, { min: 0 }),
    minConnectTime: o.number('minConnectTime', 5000, { min: 0 }),
    replayWhenNoConsumers: o.boolean('replayWhenNoConsumers', false),
    replayDelay: o.number('replayDelay', 1000, { min: 0 }),
    bridgeHeartBeat: o.number('bridgeHeartBeat', 1000, { min: 100 }),
    progressTimeout: o.number('progressTimeout', 5000, { min: 0 }),
  };
  o.accept('bridgeTempDestinations', 'suppressDuplicateTopicSubscriptions', 'alwaysSyncSend', 'dispatchAsync', 'advisoryPrefetchSize', 'advisoryAckPercentage');
  o.assertAllUsed();
  if (options.name.includes(',')) throw new ConfigError(`Network connector name '${options.name}' may not contain ','`);
  let bridges: BrokerAddress[][];
  try {
    bridges = uri.scheme === 'masterslave' ? [uri.components.flatMap((c) => addresses(c, text))] : uri.components.map((c) => addresses(c, text));
  } catch (err) {
    throw new ConfigError(`Invalid network connector URI '${text}': ${(err as Error).message}`);
  }
  return { uri: text, options, bridges };
}

/** Whether demand for this destination crosses the bridge (ActiveMQ's excluded and dynamically included destinations). */
export function bridged(d: Destination, o: NetworkOptions): boolean {
  const matches = (list: Destination[]) => list.some((p) => p.type === d.type && matchesWildcard(p.name, d.name));
  if (d.temporary || d.name.startsWith('ActiveMQ.Advisory.')) return false;
  if (matches(o.excludedDestinations)) return false;
  return o.dynamicallyIncludedDestinations.length === 0 || matches(o.dynamicallyIncludedDestinations);
}

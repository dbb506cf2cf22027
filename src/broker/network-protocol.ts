/**
 * What brokers say to each other over a network bridge, which is a STOMP
 * connection from one broker (the one with the network connector) to another.
 * Plain STOMP frames, with a few headers only bridges send.
 */

/** CONNECT from a bridge: JSON `BridgeHello`. */
export const BRIDGE_HEADER = 'amq-sim-bridge';
/** CONNECTED to a bridge: JSON `BrokerIdentity` of the answering broker. */
export const BROKER_HEADER = 'amq-sim-broker';
/**
 * SEND from a bridge, MESSAGE to a network subscription: what the message is
 * besides its headers and body, in one header (fewer headers to parse on the
 * busiest path): `persistent;priority;expiration;timestamp;path;message-id`,
 * the path being the brokers it passed through, comma-separated.
 */
export const META_HEADER = 'amq-sim-meta';
/** SUBSCRIBE from a bridge: JSON `NetworkConsumerSpec`, making it a network consumer. */
export const NETWORK_CONSUMER_HEADER = 'amq-sim-network';

export interface BrokerIdentity {
  brokerName: string;
  brokerId: string;
}

export interface BridgeHello extends BrokerIdentity {
  /** The network connector's name (ActiveMQ `name`, default NC). */
  connector: string;
  duplex: boolean;
}

/** How a broker treats a subscription a bridge makes to pull messages towards its own consumers. */
export interface NetworkConsumerSpec {
  /** The brokers the demand came through: the bridge's broker first. */
  path: string[];
  /** ActiveMQ messageTTL: a message that has passed through this many brokers is not forwarded. */
  messageTTL: number;
  priority: number;
  /** ActiveMQ replayWhenNoConsumers: a queue message may go back to a broker it came from when nobody here wants it. */
  replayWhenNoConsumers: boolean;
  /** ...but not until it has been here this long, ms. */
  replayDelay: number;
}

export interface MessageMeta {
  persistent: boolean;
  priority: number;
  expiration: number;
  timestamp: number;
  brokerPath: readonly string[];
  id: string;
}

/** The meta header of a message leaving `via`, which joins its path. */
export function encodeMeta(m: MessageMeta, via: string): string {
  const path = m.brokerPath.length === 0 ? via : `${m.brokerPath.join(',')},${via}`;
  return `${m.persistent ? 1 : 0};${m.priority};${m.expiration};${m.timestamp};${path};${m.id}`;
}

export function decodeMeta(value: string): MessageMeta | null {
  const parts = value.split(';');
  if (parts.length < 6) return null;
  return {
    persistent: parts[0] === '1',
    priority: Number(parts[1]),
    expiration: Number(parts[2]),
    timestamp: Number(parts[3]),
    brokerPath: parts[4] ? parts[4].split(',') : [],
    // A message id could hold ';': it is the rest.
    id: parts.slice(5).join(';'),
  };
}

/**
 * The forwarding rule of ActiveMQ's (conditional) network bridge filter: may
 * a message with this path be forwarded to `target`? Not if it already
 * passed through the target, unless it is a queue message going back there
 * because no local consumer wants it (replay); not if it has made messageTTL
 * hops.
 */
export function mayForward(
  path: readonly string[],
  target: string,
  isQueue: boolean,
  o: { messageTTL: number; replayWhenNoConsumers: boolean; replayDelay: number },
  hasLocalConsumers: () => boolean,
  arrivedAt: number,
): boolean {
  if (path.includes(target)) {
    return isQueue && o.replayWhenNoConsumers && !hasLocalConsumers() && Date.now() - arrivedAt >= o.replayDelay;
  }
  return path.length < o.messageTTL;
}

/** Network messages already seen (the last `capacity`), so that one a bridge re-sends after a reconnect is not delivered twice. */
export class NetworkDuplicates {
  private readonly seen = new Set<string>();
  private readonly order: string[];
  private next = 0;

  constructor(
    private readonly self: string,
    private readonly capacity = 100_000,
  ) {
    this.order = new Array(capacity);
  }

  /**
   * True when this message id arrived before. A message whose path already
   * holds this broker is one coming back on purpose (replay), not a duplicate.
   */
  isDuplicate(messageId: string, path: readonly string[]): boolean {
    if (this.seen.has(messageId)) return !path.includes(this.self);
    const evicted = this.order[this.next];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.order[this.next] = messageId;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(messageId);
    return false;
  }
}

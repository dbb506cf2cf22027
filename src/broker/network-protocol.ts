/**
 * What brokers say to each other over a network bridge, which is a STOMP
 * connection from one broker (the one with the network connector) to another.
 * Plain STOMP frames, with a few headers only bridges send.
 */

/** CONNECT from a bridge: JSON `BridgeHello`. */
export const BRIDGE_HEADER = 'amq-sim-bridge';
/** CONNECTED to a bridge: JSON `BrokerIdentity` of the answering broker. */
export const BROKER_HEADER = 'amq-sim-broker';
/** SEND from a bridge, MESSAGE to a network subscription: the brokers the message passed through, comma-separated. */
export const PATH_HEADER = 'amq-sim-path';
/** SEND from a bridge: keep this message id (duplicates are recognised by it). */
export const MESSAGE_ID_HEADER = 'amq-sim-message-id';
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

export function encodePath(path: readonly string[]): string {
  return path.join(',');
}

export function decodePath(value: string | undefined): string[] {
  return value ? value.split(',') : [];
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

/** Network messages already seen, so that one a bridge re-sends after a reconnect is not delivered twice. */
export class NetworkDuplicates {
  private readonly seen = new Map<string, true>();

  constructor(
    private readonly self: string,
    private readonly capacity = 100_000,
  ) {}

  /**
   * True when this message id arrived before. A message whose path already
   * holds this broker is one coming back on purpose (replay), not a duplicate.
   */
  isDuplicate(messageId: string, path: readonly string[]): boolean {
    const replay = path.includes(this.self);
    if (this.seen.has(messageId) && !replay) return true;
    this.seen.delete(messageId);
    this.seen.set(messageId, true);
    if (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
    return false;
  }
}

/**
 * What brokers say to each other over a network bridge, which is a STOMP
 * connection from one broker (the one with the network connector) to another.
 * Plain STOMP frames, with a few headers only bridges send; the messages go
 * in batches (./batch.ts). Everything that comes in from the other broker is
 * checked before it is used.
 */
import { checkShape, type Shape, type ShapeErrors } from '../config/shape.js';
import { networkError } from '../errors.js';
import { RecentIds } from '../util/recent-ids.js';

/** CONNECT from a bridge: JSON `BridgeHello`. */
export const BRIDGE_HEADER = 'amq-sim-bridge';
/** CONNECTED to a bridge: JSON `BrokerIdentity` of the answering broker. */
export const BROKER_HEADER = 'amq-sim-broker';
/** SUBSCRIBE from a bridge: JSON `NetworkConsumerSpec`, making it a network consumer. */
export const NETWORK_CONSUMER_HEADER = 'amq-sim-network';

export interface BrokerIdentity {
  brokerName: string;
  brokerId: string;
  /** The broker's own address (its first transport connector). */
  brokerURL?: string;
}

export interface BridgeHello extends BrokerIdentity {
  /** The network connector's name (ActiveMQ `name`, default NC). */
  connector: string;
  duplex: boolean;
  /** The connector's settings, as ActiveMQ prints them in the NetworkBridge advisory. */
  networkProperties?: string;
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

/** What a consumer advisory tells a bridge of a remote consumer. */
export interface RemoteConsumer {
  consumerId: string;
  destination: string;
  brokerPath: string[];
  selector: string | undefined;
}

export type ConsumerAdvisory = { added: RemoteConsumer } | { removed: string };

const IDENTITY_SHAPE: Shape = { brokerName: 'string', brokerId: 'string', 'brokerURL?': 'string' };
const HELLO_SHAPE: Shape = { ...IDENTITY_SHAPE, connector: 'string', duplex: 'boolean', 'networkProperties?': 'string' };
const CONSUMER_SPEC_SHAPE: Shape = { path: 'string[]', messageTTL: 'number', priority: 'number', replayWhenNoConsumers: 'boolean', replayDelay: 'number' };

function errorsFor(what: string): ShapeErrors {
  return {
    unknownKey: (where) => networkError('NETWORK_BAD_MESSAGE', what, `unknown field '${where}'`),
    badValue: (where, expected, actual) => networkError('NETWORK_BAD_MESSAGE', what, `'${where}' must be ${expected}, not ${actual}`),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw networkError('NETWORK_BAD_MESSAGE', what, 'not JSON');
  }
}

function parseChecked<T>(text: string, shape: Shape, what: string): T {
  const value = parseJson(text, what);
  checkShape(value, shape, errorsFor(what), { partial: false, what });
  return value as T;
}

export const parseHello = (text: string): BridgeHello => parseChecked(text, HELLO_SHAPE, 'bridge hello');
export const parseIdentity = (text: string): BrokerIdentity => parseChecked(text, IDENTITY_SHAPE, 'broker identity');
export const parseConsumerSpec = (text: string): NetworkConsumerSpec => parseChecked(text, CONSUMER_SPEC_SHAPE, 'network consumer');

/** A consumer advisory's JSON body (the ConsumerInfo or RemoveInfo an amq-sim broker sends). */
export function parseConsumerAdvisory(text: string): ConsumerAdvisory {
  const body = parseJson(text, 'consumer advisory') as { ConsumerInfo?: Record<string, unknown>; RemoveInfo?: Record<string, unknown> } | null;
  const bad = (reason: string) => networkError('NETWORK_BAD_MESSAGE', 'consumer advisory', reason);
  if (typeof body !== 'object' || body === null) throw bad('not an object');
  if (body.RemoveInfo) {
    if (typeof body.RemoveInfo.consumerId !== 'string') throw bad('RemoveInfo without a consumerId');
    return { removed: body.RemoveInfo.consumerId };
  }
  const info = body.ConsumerInfo;
  if (!info || typeof info.consumerId !== 'string' || typeof info.destination !== 'string') throw bad('ConsumerInfo without consumerId and destination');
  const path = info.brokerPath ?? [];
  if (!Array.isArray(path) || path.some((b) => typeof b !== 'string')) throw bad('brokerPath is not a list of broker names');
  if (info.selector !== undefined && typeof info.selector !== 'string') throw bad('selector is not a string');
  return { added: { consumerId: info.consumerId, destination: info.destination, brokerPath: path as string[], selector: info.selector as string | undefined } };
}

/** An address in the form ActiveMQ's NetworkBridge advisory gives `remoteIp`: `tcp:///127.0.0.1:54321@61611`. */
export function advisoryRemoteIp(address: string, localPort?: number): string {
  const m = /^[a-z+]+:\/\/(.*)$/.exec(address);
  return `tcp:///${m ? m[1] : address}${localPort !== undefined ? `@${localPort}` : ''}`;
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
  private readonly seen: RecentIds;

  constructor(
    private readonly self: string,
    capacity = 100_000,
  ) {
    this.seen = new RecentIds(capacity);
  }

  /**
   * True when this message id was stored here before for this destination (a
   * virtual topic's copies share their id, one per consumer queue). A message whose
   * path already holds this broker is one coming back on purpose (replay),
   * not a duplicate.
   */
  isDuplicate(destination: string, messageId: string, path: readonly string[]): boolean {
    return this.seen.has(`${destination} ${messageId}`) && !path.includes(this.self);
  }

  /** The message is stored here: a copy that comes again is a duplicate. (Not before: a copy the store refused must be taken when it is sent again.) */
  remember(destination: string, messageId: string): void {
    this.seen.add(`${destination} ${messageId}`);
  }
}

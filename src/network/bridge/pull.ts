/**
 * Pull, on duplex bridges: for this broker's own consumers, the bridge
 * subscribes on the remote broker as a network consumer, stores what it
 * receives here (batches of messages: ../batch.ts), and only then ACKs it
 * there (cumulatively, in order: one ACK for a batch).
 */
import { BrokerMessage, parseStompDestination, stompName, type ConsumerDescription, type Destination } from '../../broker/extension.js';
import type { Frame } from '../../stomp/index.js';
import { BATCH_HEADER, type BatchEntry, decodeBatch } from '../batch.js';
import { bridged } from '../connector-config.js';
import { NETWORK_CONSUMER_HEADER, type NetworkConsumerSpec, type NetworkDuplicates } from '../protocol.js';
import type { BridgeContext } from './context.js';

interface Received {
  /** The batch frame's `ack`. */
  ackId: string;
  /** Its messages not stored yet. */
  waiting: number;
}

interface Subscription {
  id: string;
  destination: Destination;
  /** The destination's STOMP name, which every message of a non-wildcard pull carries. */
  name: string;
  refs: number;
  /** Pulled batches in arrival order, until the cumulative ACK passes them: a batch is acknowledged once all its messages are stored. */
  received: Received[];
}

const NO_TEMPORARIES = {
  temporary: (): never => {
    throw new Error('temporary destinations are not bridged');
  },
};

export class Pull {
  private readonly pulls = new Map<string, Subscription>();
  private readonly byId = new Map<string, Subscription>();
  /** Local consumer id → the pull key it counts in. */
  private readonly localConsumers = new Map<string, string>();
  private readonly ackDue = new Set<Subscription>();
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly duplicates: NetworkDuplicates,
  ) {}

  start(): void {
    this.stopWatching = this.ctx.host.advisories.watch({ added: (c) => this.localConsumerAdded(c), removed: (c) => this.localConsumerRemoved(c) });
  }

  stop(): void {
    this.stopWatching?.();
    this.stopWatching = null;
    this.pulls.clear();
    this.byId.clear();
    this.localConsumers.clear();
    this.ackDue.clear();
  }

  private localConsumerAdded(c: ConsumerDescription): void {
    const { options: o, remote } = this.ctx;
    if (c.brokerPath.includes(remote) || c.brokerPath.length >= o.consumerTTL || !bridged(c.destination, o)) return;
    const conduit = o.conduitSubscriptions || c.destination.type === 'topic';
    const key = conduit ? c.destination.key : c.consumerId;
    this.localConsumers.set(c.consumerId, key);
    const existing = this.pulls.get(key);
    if (existing) {
      existing.refs++;
      return;
    }
    const spec: NetworkConsumerSpec = {
      path: [this.ctx.local, ...c.brokerPath],
      messageTTL: o.messageTTL,
      priority: o.decreaseNetworkConsumerPriority ? o.consumerPriorityBase - c.brokerPath.length : 0,
      replayWhenNoConsumers: o.replayWhenNoConsumers,
      replayDelay: o.replayDelay,
    };
    const pull: Subscription = { id: this.ctx.nextId('pull'), destination: c.destination, name: stompName(c.destination), refs: 1, received: [] };
    this.pulls.set(key, pull);
    this.byId.set(pull.id, pull);
    const headers: Record<string, string> = {
      id: pull.id,
      destination: pull.name,
      ack: 'client',
      'activemq.prefetchSize': String(o.prefetchSize),
      [NETWORK_CONSUMER_HEADER]: JSON.stringify(spec),
    };
    if (!conduit && c.selector) headers.selector = c.selector;
    this.ctx.request('SUBSCRIBE', headers, `subscription to ${pull.name}`);
  }

  private localConsumerRemoved(c: ConsumerDescription): void {
    const key = this.localConsumers.get(c.consumerId);
    if (key === undefined) return;
    this.localConsumers.delete(c.consumerId);
    const pull = this.pulls.get(key);
    if (!pull || --pull.refs > 0) return;
    this.pulls.delete(key);
    this.byId.delete(pull.id);
    this.ackDue.delete(pull);
    this.ctx.send('UNSUBSCRIBE', { id: pull.id });
  }

  /** A MESSAGE (a batch) for one of this bridge's subscriptions: its messages are stored here, then acknowledged there. */
  onMessage(f: Frame): boolean {
    const pull = this.byId.get(f.headers.subscription);
    if (!pull) return false;
    this.ctx.stats.receivedFrames++;
    let entries: BatchEntry[];
    try {
      entries = decodeBatch(f.body, f.headers[BATCH_HEADER]);
    } catch (err) {
      // Its messages cannot be told apart: none is acknowledged, the bridge starts over, and the remote broker keeps them.
      this.ctx.logger.error({ remote: this.ctx.remote, destination: f.headers.destination, err: (err as Error).message }, `Malformed batch of messages from ${this.ctx.remote}: ${(err as Error).message}; reconnecting`);
      this.ctx.session.destroy(err as Error);
      return true;
    }
    const batch: Received = { ackId: f.headers.ack, waiting: entries.length };
    pull.received.push(batch);
    this.ctx.stats.received += entries.length;
    for (const e of entries) this.take(pull, batch, e);
    return true;
  }

  private take(pull: Subscription, batch: Received, e: BatchEntry): void {
    const stored = () => {
      if (--batch.waiting === 0) this.scheduleAck(pull);
    };
    if (this.duplicates.isDuplicate(e.destination, e.id, e.brokerPath)) return stored();
    let destination: Destination;
    try {
      destination = e.destination === pull.name ? pull.destination : parseStompDestination(e.destination, NO_TEMPORARIES);
    } catch (err) {
      this.ctx.logger.error({ remote: this.ctx.remote, destination: e.destination, err: (err as Error).message }, `Dropped a message pulled from ${this.ctx.remote}: ${(err as Error).message}`);
      return stored();
    }
    const message = new BrokerMessage({
      id: e.id,
      destination,
      headers: e.headers,
      body: e.body,
      persistent: e.persistent,
      priority: e.priority,
      expiration: e.expiration,
      timestamp: e.timestamp,
      brokerPath: e.brokerPath,
      redeliveryCounter: e.redeliveryCounter,
    });
    this.ctx.host.router.send(message, (err) => {
      if (!err) {
        this.duplicates.remember(e.destination, e.id);
        return stored();
      }
      // Not acknowledged, nor anything after it: the bridge starts over (once for the batch), and the remote broker gives it again.
      if (!this.ctx.isUp()) return;
      this.ctx.logger.error({ remote: this.ctx.remote, messageId: message.id, err: err.message }, `Could not store message ${message.id} pulled from ${this.ctx.remote}: ${err.message}; reconnecting`);
      this.ctx.session.destroy(err);
    });
  }

  private scheduleAck(pull: Subscription): void {
    if (this.ackDue.size === 0) process.nextTick(() => this.flushAcks());
    this.ackDue.add(pull);
  }

  /** One cumulative ACK per subscription for every batch stored so far, in order. */
  private flushAcks(): void {
    if (!this.ctx.isUp()) return;
    for (const pull of this.ackDue) {
      let last = -1;
      while (last + 1 < pull.received.length && pull.received[last + 1].waiting === 0) last++;
      if (last < 0) continue;
      const ackId = pull.received[last].ackId;
      pull.received.splice(0, last + 1);
      this.ctx.send('ACK', { id: ackId });
    }
    this.ackDue.clear();
  }

  describe(): Array<{ destination: string; consumers: number }> {
    return [...this.pulls.values()].map((p) => ({ destination: p.name, consumers: p.refs }));
  }
}

import type { Logger } from '../../config/logger.js';
import { protocolError } from '../../errors.js';
import { DEFAULT_DUPLICATE_ID_CACHE_SIZE } from '../../store/duplicate-windows.js';
import { RecentIds } from '../../util/recent-ids.js';
import { type DestinationPolicy, SHARED_DLQ } from '../../config/policy.js';
import { subscriptionHolder } from '../../store/holders.js';
import type { DurableSubscriptionRecord, MessageStore, RecoveredState, StoreOp, WriteCallback } from '../../store/types.js';
import type { Consumer } from './consumer.js';
import { type Destination, destination, destinationFromKey, stompName } from './destination.js';
import { BrokerMessage } from './message.js';
import type { PolicyMap } from './policy-map.js';
import { Queue, type QueueEnvironment, type QueuePersistence, type SpillStore } from './queue.js';
import { FlowControl } from './flow-control.js';
import type { SystemUsage } from './usage.js';
import { Topic, TopicSubscription } from './topic.js';
import { isWildcard, wildcardReaches } from './wildcard.js';
import { VirtualTopics } from './virtual-topics.js';
import type { VirtualTopicConfig } from '../../config/virtual-topics.js';

export interface RouterOptions {
  brokerName: string;
  policy: DestinationPolicy;
  policies: PolicyMap;
  usage: SystemUsage;
  store: MessageStore;
  /** Where non-persistent messages spill from memory for destinations without producer flow control (null: none has that). */
  tempStore: MessageStore | null;
  logger: Logger;
  /** Broker-unique ids (durable subscription incarnations). */
  newId: (kind: string) => string;
  /** ActiveMQ's virtual topics (none: no topic is virtual). */
  virtualTopics?: readonly VirtualTopicConfig[];
}

export interface DurableOptions {
  clientId: string;
  subscriptionName: string;
  selector?: string | undefined;
  noLocal?: boolean | undefined;
}

/**
 * What takes some messages out of plain routing (the job scheduler takes
 * scheduled messages and commands to its management destination).
 */
export interface SendInterceptor {
  /** True when `m` is its to handle. */
  takes(m: BrokerMessage): boolean;
  /** Handles `m` now; `done` runs once what it keeps is stored. */
  take(m: BrokerMessage, done?: WriteCallback): void;
  /** Handles `m` as part of a transaction: `op` joins the transaction's batch; `stored` runs once the batch is stored, with the position `op` got. */
  prepare(m: BrokerMessage): { op: StoreOp | null; stored: (position?: number) => void };
}

/** An acknowledgement waiting for its transaction's commit. */
export interface PendingAck {
  source: Queue;
  message: BrokerMessage;
}

/**
 * The broker's destinations: creates queues and topics on first use, routes
 * messages to them, keeps subscriptions (durable ones too) and the dead letter
 * queue. Knows nothing of STOMP or of sockets.
 */
export class MessageRouter implements QueueEnvironment {
  readonly queues = new Map<string, Queue>();
  private readonly virtualTopics: VirtualTopics;
  readonly topics = new Map<string, Topic>();
  readonly durableSubscriptions = new Map<string, TopicSubscription>();
  private readonly wildcardQueueConsumers = new Map<Consumer, Destination>();
  private readonly wildcardTopicSubscriptions = new Set<TopicSubscription>();
  readonly store: MessageStore;
  readonly tempStore: MessageStore | null;
  readonly policy: DestinationPolicy;
  readonly policies: PolicyMap;
  readonly usage: SystemUsage;
  private readonly logger: Logger;
  private readonly newId: (kind: string) => string;
  private readonly brokerName: string;
  /** Producer flow control: whether a destination takes a message now. */
  readonly flowControl: FlowControl;
  /** Live temporary destinations, by key, with the connection that owns each. */
  readonly temporaries = new Map<string, string>();
  /** Per destination, the duplicate-detection ids of the last messages sent to it. */
  private readonly recentIds = new Map<string, RecentIds>();
  /** The job scheduler, when the broker has scheduler support. */
  interceptor: SendInterceptor | null = null;

  constructor(options: RouterOptions) {
    this.store = options.store;
    this.tempStore = options.tempStore;
    this.policy = options.policy;
    this.policies = options.policies;
    this.usage = options.usage;
    this.flowControl = new FlowControl({ usage: options.usage, policies: options.policies, store: options.store, logger: options.logger, memoryOf: (dest: Destination) => this.memoryOf(dest) });
    this.logger = options.logger;
    this.newId = options.newId;
    this.brokerName = options.brokerName;
    this.virtualTopics = new VirtualTopics(options.virtualTopics ?? []);
  }

  get prioritizedMessages(): boolean {
    return this.policy.prioritizedMessages;
  }

  get maximumRedeliveries(): number {
    return this.policy.maximumRedeliveries;
  }

  get redeliveryAffinity(): number {
    return this.policy.networkRedeliveryAffinity;
  }

  // ---- memory and producer flow control ----

  memoryChanged(delta: number): void {
    this.usage.memory.add(delta);
  }

  get memoryInUse(): number {
    return this.usage.memory.used;
  }

  /**
   * Below the cursorMemoryHighWaterMark (70% of the memory limit, the
   * broker's and the destination's own) a queue keeps arriving messages in
   * memory.
   */
  roomInMemory(queue: Queue, bytes: number): boolean {
    const limits = this.policies.limitsFor(queue.destination);
    const mark = limits.cursorMemoryHighWaterMark / 100;
    const memory = this.usage.memory;
    if (memory.used + bytes > memory.limit * mark) return false;
    return limits.memoryLimit <= 0 || queue.memoryUsage + bytes <= limits.memoryLimit * mark;
  }

  pageInFailed(queue: Queue, err: Error): void {
    this.logger.error({ destination: stompName(queue.destination), err: err.message }, `Failed to page in messages of ${stompName(queue.destination)}: ${err.message}`);
  }

  // ---- destinations ----

  /** Bytes of a destination's messages in memory (a topic's: those its subscriptions hold). */
  memoryOf(dest: Destination): number {
    if (dest.type === 'queue') return this.queues.get(dest.key)?.memoryUsage ?? 0;
    let bytes = 0;
    for (const sub of this.topics.get(dest.key)?.subscriptions ?? []) bytes += sub.queue.memoryUsage;
    return bytes;
  }


  queue(dest: Destination, recorded = false): Queue {
    let q = this.queues.get(dest.key);
    if (!q) {
      q = this.newQueue(dest, dest.temporary ? null : this.queuePersistence(dest), dest.key, null);
      this.queues.set(dest.key, q);
      this.virtualTopics.queuesChanged();
      if (!dest.temporary && !recorded) this.store.write({ op: 'add-destination', destination: dest.key });
      for (const [consumer, pattern] of this.wildcardQueueConsumers) {
        if (wildcardReaches(pattern.name, dest)) q.addConsumer(consumer);
      }
    }
    return q;
  }

  topic(dest: Destination): Topic {
    let t = this.topics.get(dest.key);
    if (!t) {
      t = new Topic(dest);
      this.topics.set(dest.key, t);
    }
    return t;
  }

  /** Removes a destination and everything pending on it (temporary destinations, admin). */
  removeDestination(dest: Destination): void {
    if (dest.type === 'queue') {
      const q = this.queues.get(dest.key);
      if (!q) return;
      q.purge();
      this.queues.delete(dest.key);
      this.virtualTopics.queuesChanged();
    } else {
      this.topics.delete(dest.key);
    }
    if (!dest.temporary) this.store.write({ op: 'remove-destination', destination: dest.key });
  }

  /**
   * A queue, or a topic subscription's queue, with its destination's
   * settings. `spillHolder`: its key in the temp store, used when its
   * producers are not flow-controlled (`subscription`: a topic
   * subscription's id, which the temp store's records name).
   */
  private newQueue(dest: Destination, persistence: QueuePersistence | null, spillHolder: string, subscription: string | null): Queue {
    const limits = this.policies.limitsFor(dest);
    const spill = limits.producerFlowControl || !this.tempStore ? null : this.spillStore(this.tempStore, spillHolder, subscription);
    return new Queue(dest, this, persistence, limits.maxPageSize, spill);
  }

  private spillStore(store: MessageStore, holder: string, subscription: string | null): SpillStore {
    const subscriptions = subscription === null ? undefined : [subscription];
    return {
      store,
      holder,
      addOp: (m) => ({ op: 'add', destination: m.destination.key, message: m, subscriptions }),
      removeOp: (m) => ({ op: 'remove', destination: m.destination.key, messageId: m.id, subscription: subscription ?? undefined, position: m.position }),
    };
  }

  private queuePersistence(dest: Destination): QueuePersistence {
    return {
      addOp: (m) => ({ op: 'add', destination: dest.key, message: m, duplicateId: m.duplicateId }),
      removeOp: (m) => ({ op: 'remove', destination: dest.key, messageId: m.id, position: m.position }),
      dispatchedOp: (m, consumer) => ({ op: 'dispatched', destination: dest.key, messageId: m.id, consumer, position: m.position }),
      purgeOp: (after, upTo) => ({ op: 'purge', destination: dest.key, after, upTo }),
      backlog: this.store.backlog(dest.key),
    };
  }

  // ---- sending ----

  /**
   * Routes one message; `done` runs once it is stored (at once for
   * non-persistent messages). A message whose duplicate-detection id the
   * destination saw lately is acknowledged and dropped.
   */
  send(m: BrokerMessage, done?: WriteCallback): void {
    if (this.interceptor?.takes(m)) return this.interceptor.take(m, done);
    if (this.seenBefore(m)) {
      done?.();
      return;
    }
    if (m.destination.type === 'queue') return this.queue(m.destination).enqueue(m, done);
    const copies = this.virtualTopics.copies(m, this.queues);
    if (copies.length === 0) return this.publish(m, done);
    // The topic's subscribers and each consumer queue of a virtual topic: done once every one has it stored.
    const all = allDone(copies.length + 1, done);
    this.publish(m, all);
    for (const c of copies) c.queue.enqueue(c.message, all);
  }

  /**
   * True for a message whose `_AMQ_DUPL_ID` this destination saw lately;
   * else the id is remembered now. A message whose broker path holds this
   * broker comes back on purpose (network replay) and is no duplicate.
   */
  private seenBefore(m: BrokerMessage): boolean {
    const id = m.duplicateId;
    if (id === undefined || m.brokerPath.includes(this.brokerName)) return false;
    let recent = this.recentIds.get(m.destination.key);
    if (!recent) this.recentIds.set(m.destination.key, (recent = new RecentIds(DEFAULT_DUPLICATE_ID_CACHE_SIZE)));
    if (recent.has(id)) {
      this.logger.debug({ destination: stompName(m.destination), duplicateId: id }, 'Duplicate message dropped');
      return true;
    }
    recent.add(id);
    return false;
  }

  private publish(m: BrokerMessage, done?: WriteCallback): void {
    const topic = this.topic(m.destination);
    topic.stats.enqueued++;
    if (m.isExpired(Date.now())) {
      this.expired(m, done);
      return;
    }
    const targets = this.matchingSubscriptions(topic, m);
    const deliver = (position?: number) => {
      m.position = position;
      topic.remember(m, this.policy.retroactiveMessages);
      this.deliverToSubscriptions(m, targets);
    };
    const op = this.topicAddOp(m, targets);
    if (op) this.store.write(op, topic.arrivals.stored(deliver, done));
    else {
      topic.arrivals.pass(deliver);
      done?.();
    }
  }

  private matchingSubscriptions(topic: Topic, m: BrokerMessage): TopicSubscription[] {
    const targets: TopicSubscription[] = [];
    for (const sub of topic.subscriptions) if (sub.filter(m)) targets.push(sub);
    for (const sub of this.wildcardTopicSubscriptions) {
      if (wildcardReaches(sub.destination.name, m.destination) && sub.filter(m)) targets.push(sub);
    }
    return targets;
  }

  /** One record for a persistent topic message, naming the durable subscriptions that must keep it. */
  private topicAddOp(m: BrokerMessage, targets: TopicSubscription[]): StoreOp | null {
    if (!m.persistent || m.destination.temporary) return null;
    const keys = targets.filter((s) => s.durable).map((s) => s.durable!.id);
    return keys.length > 0 ? { op: 'add', destination: m.destination.key, message: m, subscriptions: keys, duplicateId: m.duplicateId } : null;
  }

  private deliverToSubscriptions(m: BrokerMessage, targets: TopicSubscription[]): void {
    if (targets.length > 1) m.shared = true;
    const limit = targets.length > 0 ? this.policies.limitsFor(m.destination).pendingMessageLimit : -1;
    for (const sub of targets) {
      sub.queue.enqueueStored(m, m.position);
      // A slow non-durable subscriber keeps the newest `limit` waiting (ActiveMQ's constantPendingMessageLimitStrategy).
      if (limit >= 0 && !sub.durable) sub.queue.discardOldest(limit);
    }
  }

  /**
   * Applies a transaction: its sends and acks are stored in one
   * all-or-nothing batch, then take effect. `also`: more store operations
   * for the same batch (the scheduler's record of a job it fires); `done`
   * gets the position the first of them was given.
   */
  commit(transactionId: string, sends: readonly BrokerMessage[], acks: readonly PendingAck[], done: WriteCallback, also: readonly StoreOp[] = []): void {
    const ops: StoreOp[] = [];
    // Each delivery gets the position the store gave its add (the index of that add in `ops`, or -1).
    const deliveries: Array<[number, (position?: number) => void]> = [];
    const add = (op: StoreOp | null, deliver: (position?: number) => void) => {
      if (op) ops.push(op);
      deliveries.push([op ? ops.length - 1 : -1, deliver]);
    };
    for (const m of sends) {
      if (this.interceptor?.takes(m)) {
        const { op, stored } = this.interceptor.prepare(m);
        add(op, stored);
        continue;
      }
      if (this.seenBefore(m)) continue;
      if (m.destination.type === 'queue') {
        const q = this.queue(m.destination);
        add(q.addOp(m), (position) => q.enqueueStored(m, position));
        continue;
      }
      const topic = this.topic(m.destination);
      const targets = this.matchingSubscriptions(topic, m);
      add(this.topicAddOp(m, targets), (position) => {
        topic.stats.enqueued++;
        topic.arrivals.pass(() => {
          m.position = position;
          topic.remember(m, this.policy.retroactiveMessages);
          this.deliverToSubscriptions(m, targets);
        });
      });
      for (const c of this.virtualTopics.copies(m, this.queues)) add(c.queue.addOp(c.message), (position) => c.queue.enqueueStored(c.message, position));
    }
    for (const ack of acks) {
      const op = ack.source.removeOp(ack.message);
      if (op) ops.push(op);
    }
    const first = ops.length;
    ops.push(...also);
    const apply = (err?: Error, positions?: ReadonlyArray<number | undefined>) => {
      if (err) return done(err);
      for (const [op, deliver] of deliveries) deliver(op >= 0 ? positions?.[op] : undefined);
      for (const ack of acks) ack.source.acknowledge(ack.message, true);
      done(undefined, also.length > 0 ? positions?.[first] : undefined);
    };
    if (ops.length === 0) apply();
    else this.store.commit(transactionId, ops, apply);
  }

  // ---- queue consumers ----

  addQueueConsumer(dest: Destination, consumer: Consumer): void {
    if (isWildcard(dest.name)) {
      this.wildcardQueueConsumers.set(consumer, dest);
      for (const q of this.queues.values()) {
        if (wildcardReaches(dest.name, q.destination)) q.addConsumer(consumer);
      }
      return;
    }
    this.queue(dest).addConsumer(consumer);
  }

  /** Detaches a consumer from every queue it consumes; its unacknowledged messages go back to their queues. */
  removeQueueConsumer(dest: Destination, consumer: Consumer, unacknowledged: ReadonlyMap<Queue, BrokerMessage[]>): void {
    if (isWildcard(dest.name)) {
      this.wildcardQueueConsumers.delete(consumer);
      for (const q of this.queues.values()) if (q.consumerList.includes(consumer)) q.removeConsumer(consumer, unacknowledged.get(q));
      return;
    }
    this.queues.get(dest.key)?.removeConsumer(consumer, unacknowledged.get(this.queue(dest)));
  }

  /** Dispatches the queues a consumer is on (after its transport drained). */
  redispatch(dest: Destination, consumer: Consumer): void {
    if (!isWildcard(dest.name)) {
      this.queues.get(dest.key)?.dispatch();
      return;
    }
    for (const q of this.queues.values()) if (q.consumerList.includes(consumer)) q.dispatch();
  }

  /** Whether a message published to this topic would reach anyone. */
  hasSubscribers(dest: Destination): boolean {
    if ((this.topics.get(dest.key)?.subscriptions.size ?? 0) > 0) return true;
    for (const sub of this.wildcardTopicSubscriptions) if (wildcardReaches(sub.destination.name, dest)) return true;
    return false;
  }

  // ---- topic subscriptions ----

  /** A plain (non-durable) subscription: lives as long as its consumer. */
  subscribeTopic(dest: Destination, consumer: Consumer, filter: (m: BrokerMessage) => boolean): TopicSubscription {
    const id = this.newId('s');
    const sub = new TopicSubscription(dest, this.newQueue(dest, null, subscriptionHolder(id), id), filter, null);
    this.attach(sub);
    sub.consumer = consumer;
    sub.queue.addConsumer(consumer);
    return sub;
  }

  /** Messages the topic kept for `activemq.retroactive` subscribers. */
  recentMessages(dest: Destination): readonly BrokerMessage[] {
    return this.topics.get(dest.key)?.recent ?? [];
  }

  /**
   * Activates a durable subscription, creating it if needed. A subscription
   * with the same client id and name but another topic, selector or noLocal is
   * replaced (its pending messages are dropped), as in ActiveMQ.
   */
  subscribeDurable(dest: Destination, consumer: Consumer, options: DurableOptions, filter: (m: BrokerMessage) => boolean): TopicSubscription {
    const key = `${options.clientId}:${options.subscriptionName}`;
    let sub = this.durableSubscriptions.get(key);
    if (sub?.consumer) {
      throw protocolError('STOMP_DURABLE_IN_USE', options.clientId, options.subscriptionName);
    }
    const record: DurableSubscriptionRecord = {
      id: this.newId('d'),
      key,
      clientId: options.clientId,
      subscriptionName: options.subscriptionName,
      destination: dest.key,
      selector: options.selector,
      noLocal: options.noLocal,
    };
    if (sub && !sameSubscription(sub.durable!, record)) {
      this.removeDurable(options.clientId, options.subscriptionName);
      sub = undefined;
    }
    if (!sub) {
      sub = this.createDurable(record, filter);
      this.store.write({ op: 'add-subscription', subscription: record });
    }
    sub.consumer = consumer;
    sub.queue.addConsumer(consumer);
    return sub;
  }

  private createDurable(record: DurableSubscriptionRecord, filter: (m: BrokerMessage) => boolean): TopicSubscription {
    const dest = destinationFromKey(record.destination);
    const persistence: QueuePersistence = {
      addOp: () => null,
      removeOp: (m) => ({ op: 'remove', destination: m.destination.key, messageId: m.id, subscription: record.id, position: m.position }),
      dispatchedOp: (m, consumer) => ({ op: 'dispatched', destination: m.destination.key, messageId: m.id, subscription: record.id, consumer, position: m.position }),
      // A durable subscription's messages go with the subscription's removal record.
      purgeOp: () => null,
      backlog: this.store.backlog(subscriptionHolder(record.id)),
    };
    const sub = new TopicSubscription(dest, this.newQueue(dest, persistence, subscriptionHolder(record.id), record.id), filter, record);
    this.durableSubscriptions.set(record.key, sub);
    this.attach(sub);
    return sub;
  }

  /** The consumer leaves. A plain subscription ends; a durable one keeps collecting messages. */
  unsubscribeTopic(sub: TopicSubscription, unacknowledged: readonly BrokerMessage[]): void {
    const consumer = sub.consumer;
    sub.consumer = null;
    if (consumer) sub.queue.removeConsumer(consumer, sub.durable ? unacknowledged : []);
    if (!sub.durable) {
      this.detach(sub);
      sub.queue.purge();
    }
  }

  /** Deletes a durable subscription and its pending messages. Refused while a consumer is attached. */
  removeDurable(clientId: string, subscriptionName: string): boolean {
    const key = `${clientId}:${subscriptionName}`;
    const sub = this.durableSubscriptions.get(key);
    if (!sub) return false;
    if (sub.consumer) throw protocolError('STOMP_DURABLE_IN_USE', clientId, subscriptionName);
    this.durableSubscriptions.delete(key);
    this.detach(sub);
    sub.queue.purge();
    this.store.write({ op: 'remove-subscription', destination: sub.destination.key, id: sub.durable!.id });
    return true;
  }

  private attach(sub: TopicSubscription): void {
    if (isWildcard(sub.destination.name)) this.wildcardTopicSubscriptions.add(sub);
    else this.topic(sub.destination).subscriptions.add(sub);
  }

  private detach(sub: TopicSubscription): void {
    if (isWildcard(sub.destination.name)) this.wildcardTopicSubscriptions.delete(sub);
    else this.topics.get(sub.destination.key)?.subscriptions.delete(sub);
  }

  // ---- dead letters and expiry ----

  deadLetter(m: BrokerMessage, reason: string, done?: WriteCallback): void {
    if (!m.persistent && !this.policy.processNonPersistent) {
      this.logger.debug({ messageId: m.id, destination: stompName(m.destination), reason }, 'Non-persistent message dropped instead of dead-lettered');
      done?.();
      return;
    }
    const dlq = this.deadLetterQueueFor(m.destination);
    if (dlq.key === m.destination.key) {
      this.logger.warn({ messageId: m.id, reason }, 'Message dropped: it failed in the dead letter queue itself');
      done?.();
      return;
    }
    const copy = m.with({
      destination: dlq,
      expiration: 0,
      redeliveryCounter: 0,
      brokerHeaders: { ...m.brokerHeaders, 'original-destination': m.brokerHeaders?.['original-destination'] ?? stompName(m.destination), dlqDeliveryFailureCause: reason },
    });
    this.queue(dlq).enqueue(copy, done);
  }

  expired(m: BrokerMessage, done?: WriteCallback): void {
    if (this.policy.processExpired) this.deadLetter(m, 'Message expired', done);
    else done?.();
  }

  deadLetterQueueFor(dest: Destination): Destination {
    if (this.policy.deadLetterStrategy === 'shared') return destination('queue', SHARED_DLQ);
    const prefix = dest.type === 'queue' ? this.policy.deadLetterQueuePrefix : this.policy.deadLetterTopicPrefix;
    return destination('queue', prefix + dest.name);
  }

  /** ActiveMQ's periodic expiry sweep over pending messages. */
  expireSweep(now = Date.now()): void {
    for (const q of this.queues.values()) q.expirePending(now);
    for (const sub of this.durableSubscriptions.values()) sub.queue.expirePending(now);
  }

  // ---- recovery ----

  /**
   * Rebuilds destinations and durable subscriptions from the store, and the
   * duplicate-detection windows. Pending messages stay in the store, paged in
   * as consumers want them; returns how many there are.
   */
  recover(state: RecoveredState, filterFor: (record: DurableSubscriptionRecord) => (m: BrokerMessage) => boolean): number {
    let count = 0;
    for (const key of state.destinations) {
      const dest = destinationFromKey(key);
      if (dest.type === 'queue') this.queue(dest, true);
      else this.topic(dest);
    }
    for (const [key, pending] of state.queues) {
      this.queue(destinationFromKey(key), true);
      count += pending;
    }
    for (const [key, ids] of state.duplicateIds) {
      const recent = new RecentIds(DEFAULT_DUPLICATE_ID_CACHE_SIZE);
      for (const id of ids) recent.add(id);
      this.recentIds.set(key, recent);
    }
    for (const { record, pending } of state.subscriptions) {
      this.createDurable(record, filterFor(record));
      count += pending;
    }
    return count;
  }
}

function sameSubscription(a: DurableSubscriptionRecord, b: DurableSubscriptionRecord): boolean {
  return a.destination === b.destination && (a.selector ?? '') === (b.selector ?? '') && !!a.noLocal === !!b.noLocal;
}

/** A callback that runs `done` once it has been called `n` times, with the first error if any. */
function allDone(n: number, done?: WriteCallback): WriteCallback {
  let left = n;
  let failure: Error | undefined;
  return (err) => {
    failure ??= err;
    if (--left === 0) done?.(failure);
  };
}

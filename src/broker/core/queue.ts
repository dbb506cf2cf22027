import type { Consumer } from './consumer.js';
import type { Destination } from './destination.js';
import { BrokerMessage } from './message.js';
import { ArrivalLine } from './arrival-line.js';
import { PendingList } from './pending-list.js';
import { StoreCursor } from './store-cursor.js';
import type { MessageStore, PagedMessage, StoredBacklog, StoreOp, WriteCallback } from '../../store/types.js';
import { destinationFromKey } from './destination.js';

/** The store records for a queue's persistent messages; null for holders that keep nothing (temporary, plain topic subscriptions). */
export interface QueuePersistence {
  /** Null where another party stores the message (a durable subscription's messages are stored by their topic). */
  addOp(message: BrokerMessage): StoreOp | null;
  removeOp(message: BrokerMessage): StoreOp;
  dispatchedOp(message: BrokerMessage, consumer: string | undefined): StoreOp;
  /** Drops the pending messages the store holds after position `after` up to `upTo` (a purge). */
  purgeOp(after: number, upTo: number): StoreOp | null;
  /** The messages the store holds for this queue, to page in. */
  backlog: StoredBacklog;
}

/** Messages read from the store at a time (ActiveMQ's `maxPageSize` default). */
export const DEFAULT_MAX_PAGE_SIZE = 200;

/**
 * Where a queue whose producers are not flow-controlled puts the messages
 * memory has no room for: the temp store (ActiveMQ's `tmp_storage`), under
 * `holder`.
 */
export interface SpillStore {
  readonly store: MessageStore;
  readonly holder: string;
  addOp(message: BrokerMessage): StoreOp;
  removeOp(message: BrokerMessage): StoreOp;
}

/** What a queue asks of the broker around it. */
export interface QueueEnvironment {
  readonly store: MessageStore;
  readonly prioritizedMessages: boolean;
  /** Redeliveries after which a message goes to the dead letter queue; -1 = never. */
  readonly maximumRedeliveries: number;
  /** ms that messages a consumer with an affinity gave back unacknowledged are kept for consumers of that affinity (policy.networkRedeliveryAffinity). */
  readonly redeliveryAffinity: number;
  /** A message expired: dead-lettered or dropped, per policy; `done` once that is stored. */
  expired(message: BrokerMessage, done?: WriteCallback): void;
  deadLetter(message: BrokerMessage, reason: string, done?: WriteCallback): void;
  /** Called when the bytes of messages held in memory change, for the broker's memory limit. */
  memoryChanged(delta: number): void;
  /**
   * Whether `bytes` more of this queue's messages may be held in memory;
   * when not, a persistent message arriving stays in the store only, until
   * consumers make room (ActiveMQ's `cursorMemoryHighWaterMark`).
   */
  roomInMemory(queue: Queue, bytes: number): boolean;
  /** A page-in failed (the store could not be read); it is tried again a second later. */
  pageInFailed(queue: Queue, err: Error): void;
}

export interface QueueStatistics {
  enqueued: number;
  dequeued: number;
  dispatched: number;
  expired: number;
  /** Dropped by a pending message limit (a slow topic subscriber's). */
  discarded: number;
}

/**
 * A holder of messages with competing consumers: a `/queue/`, or the private
 * list behind one topic subscription. Each message goes to exactly one
 * consumer: the exclusive one if there is one, its group's owner, else round
 * robin among the highest-priority consumers with room.
 */
export class Queue {
  readonly pending: PendingList;
  private consumers: Consumer[] = [];
  private readonly roundRobin = new Map<number, number>();
  private readonly groups = new Map<string, Consumer>();
  private exclusiveOwner: Consumer | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  private dispatching = false;
  private dispatchAgain = false;
  private readonly arrivals = new ArrivalLine();
  /** Persistent messages in the store only (ActiveMQ's store cursor). */
  private readonly stored: StoreCursor | null;
  /** Messages spilled to the temp store; made on the first spill. */
  private spilled: StoreCursor | null = null;
  readonly stats: QueueStatistics = { enqueued: 0, dequeued: 0, dispatched: 0, expired: 0, discarded: 0 };

  constructor(
    readonly destination: Destination,
    private readonly env: QueueEnvironment,
    private readonly persistence: QueuePersistence | null,
    private readonly maxPageSize = DEFAULT_MAX_PAGE_SIZE,
    private readonly spill: SpillStore | null = null,
  ) {
    this.pending = new PendingList(env.prioritizedMessages);
    this.stored = persistence ? new StoreCursor(persistence.backlog) : null;
  }

  /** Pending messages: in memory, and in the stores only. */
  get size(): number {
    return this.pending.size + this.backlog;
  }

  /** Pending messages in the stores only (message store and temp store, those being written there too), not in memory. */
  get backlog(): number {
    return (this.stored?.count ?? 0) + (this.spilled ? this.spilled.count + this.spilled.writing : 0);
  }

  /** Bytes of pending messages in memory. */
  get memoryUsage(): number {
    return this.pending.memory;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get consumerList(): readonly Consumer[] {
    return this.consumers;
  }

  /**
   * Stores (when persistent and this queue persists), then dispatches: a
   * persistent message reaches no consumer before it is stored. `done` runs
   * once the store has it. A message already expired when it arrives is
   * never delivered (dead-lettered or dropped, as ActiveMQ's policy says).
   */
  enqueue(message: BrokerMessage, done?: WriteCallback): void {
    this.stats.enqueued++;
    if (message.isExpired(Date.now())) {
      this.stats.expired++;
      this.env.expired(message, done);
      return;
    }
    const op = this.addOp(message);
    if (op) {
      this.env.store.write(op, this.arrivals.stored((position) => this.arrive(message, position), done));
      return;
    }
    if (this.mustSpill(message)) this.spillToTemp(message);
    else this.arrivals.pass(() => this.arrive(message, undefined));
    done?.();
  }

  /**
   * A message reached the queue (stored first if persistent). A stored one
   * stays in the store only while there is a backlog (so that the queue's
   * order holds) or while memory holds more than the high-water mark.
   */
  private arrive(message: BrokerMessage, position: number | undefined): void {
    if (position !== undefined && this.stored) {
      message.position = position;
      // A store that is memory itself gains nothing from keeping it there only.
      if (this.stored.arrived(position, this.env.store.pagesOut && !this.env.roomInMemory(this, message.size))) {
        this.pageIn();
        return;
      }
    }
    this.offer(message);
  }

  /** Memory has no room for a message the store does not keep, and producers are not held back: it goes to the temp store. */
  private mustSpill(message: BrokerMessage): boolean {
    return this.spill !== null && (this.spilled?.busy === true || !this.env.roomInMemory(this, message.size));
  }

  private spillToTemp(message: BrokerMessage): void {
    const spill = this.spill!;
    const cursor = (this.spilled ??= new StoreCursor(spill.store.backlog(spill.holder)));
    cursor.writing++;
    const stored = this.arrivals.stored(
      (position) => {
        cursor.arrived(position!, true);
        this.pageIn();
      },
      (err) => {
        cursor.writing--;
        // The temp store could not take it: memory has to.
        if (err) this.offer(message);
      },
    );
    spill.store.write(spill.addOp(message), stored);
  }

  /** The store record that `enqueue` would write, for a transaction's batch. */
  addOp(message: BrokerMessage): StoreOp | null {
    return this.persistence && message.persistent ? this.persistence.addOp(message) : null;
  }

  removeOp(message: BrokerMessage): StoreOp | null {
    return this.persistence && message.persistent && !message.spilled ? this.persistence.removeOp(message) : null;
  }

  /**
   * Records that a persistent message reached a consumer that will ack it
   * later, so that after a crash it comes back marked redelivered. Only the
   * first delivery is recorded. For a consumer with an affinity (another
   * broker), `handOver` runs once the record is durable: a message that may
   * have reached that broker is, after a crash, kept for it (never given to
   * another broker's consumers as well). Otherwise `handOver` runs at once.
   */
  markDispatched(message: BrokerMessage, consumer: Consumer, handOver?: () => void): void {
    if (!this.persistence || !message.persistent || (message.redeliveryCounter > 0 && consumer.affinity === null)) {
      handOver?.();
      return;
    }
    const op = this.persistence.dispatchedOp(message, consumer.affinity ?? undefined);
    if (handOver && consumer.affinity !== null) this.env.store.write(op, (err) => !err && handOver());
    else {
      this.env.store.write(op);
      handOver?.();
    }
  }

  /**
   * Keeps messages for the consumers of one affinity (a network broker) for a
   * while (they may have reached it already: given to anyone else they could
   * be delivered twice), then lets anyone have them.
   */
  reserveFor(messages: readonly BrokerMessage[], affinity: string, until: number): void {
    for (const m of messages) m.affinity = { key: affinity, until };
    if (until >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = until;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.dispatch();
    }, Math.max(0, until - Date.now()) + 5);
    this.wakeTimer.unref();
  }

  /** Enqueues a message whose store record is already written (a transaction's commit, a topic's persistent message), at `position`. */
  enqueueStored(message: BrokerMessage, position?: number): void {
    this.stats.enqueued++;
    if ((position === undefined || !this.stored) && this.mustSpill(message)) this.spillToTemp(message);
    else this.arrivals.pass(() => this.arrive(message, position));
  }

  /**
   * Reads the next page of a backlog into memory when memory holds less than
   * a page and someone could take it: the message store's first, then the
   * temp store's; one read at a time for each.
   */
  private pageIn(): void {
    if (this.consumers.length === 0 || this.pending.size >= this.maxPageSize) return;
    for (const cursor of [this.stored, this.spilled]) {
      const reading = cursor?.pageIn(this.maxPageSize, (p) => {
        const m = this.fromPaged(p, cursor === this.spilled);
        this.pending.push(m);
        this.held(m, 1);
      });
      if (!reading) continue;
      reading.then(
        () => this.dispatch(),
        (err: Error) => {
          this.env.pageInFailed(this, err);
          setTimeout(() => {
            cursor!.retry();
            this.dispatch();
          }, 1000).unref();
        },
      );
      return;
    }
  }

  /** A message read back from the store. One dispatched to another broker before a restart is kept for that broker for a while (it may have it already). */
  private fromPaged(p: PagedMessage, spilled: boolean): BrokerMessage {
    const s = p.message;
    const m = new BrokerMessage({
      id: s.id,
      destination: destinationFromKey(p.destination),
      headers: s.headers,
      body: s.body,
      persistent: s.persistent ?? true,
      priority: s.priority,
      expiration: s.expiration,
      timestamp: s.timestamp,
      brokerPath: s.brokerPath,
      redeliveryCounter: s.redeliveryCounter,
      brokerHeaders: s.brokerHeaders,
    });
    m.position = p.position;
    m.spilled = spilled;
    if (s.dispatchedTo && this.env.redeliveryAffinity > 0) this.reserveFor([m], s.dispatchedTo, Date.now() + this.env.redeliveryAffinity);
    return m;
  }

  /** Adds a message to the pending list and dispatches, without touching the store or statistics. */
  offer(message: BrokerMessage): void {
    if (this.pending.size === 0 && !this.dispatching) {
      if (message.isExpired(Date.now())) return this.expireTaken(message);
      const consumer = this.pick(message);
      if (consumer) {
        this.handOver(consumer, message);
        return;
      }
    }
    this.pending.push(message);
    this.held(message, 1);
    this.dispatch();
  }

  addConsumer(consumer: Consumer): void {
    let i = this.consumers.length;
    while (i > 0 && this.consumers[i - 1].priority < consumer.priority) i--;
    this.consumers.splice(i, 0, consumer);
    this.electExclusive();
    this.dispatch();
  }

  /**
   * What the queue holds, in dispatch order, without taking anything: first
   * what is in memory, then the backlog, read page by page (queue browsing).
   */
  browse(): AsyncGenerator<BrokerMessage> {
    // Taken now: what memory holds, and where each backlog begins and ends.
    const inMemory = this.pending.toArray();
    const backlogs: Array<{ spilled: boolean; pages: AsyncGenerator<PagedMessage> }> = [];
    if (this.stored) backlogs.push({ spilled: false, pages: this.stored.browse(this.maxPageSize) });
    if (this.spilled) backlogs.push({ spilled: true, pages: this.spilled.browse(this.maxPageSize) });
    return this.browsing(inMemory, backlogs);
  }

  private async *browsing(inMemory: BrokerMessage[], backlogs: Array<{ spilled: boolean; pages: AsyncGenerator<PagedMessage> }>): AsyncGenerator<BrokerMessage> {
    yield* inMemory;
    for (const { spilled, pages } of backlogs) for await (const p of pages) yield this.fromPaged(p, spilled);
  }

  /**
   * Removes a consumer; what it had not acknowledged comes back, marked
   * redelivered, in its original order (reserved for a while for a consumer
   * with an affinity).
   */
  removeConsumer(consumer: Consumer, unacknowledged: readonly BrokerMessage[] = []): void {
    const i = this.consumers.indexOf(consumer);
    if (i >= 0) this.consumers.splice(i, 1);
    for (const [group, owner] of this.groups) if (owner === consumer) this.groups.delete(group);
    this.electExclusive();
    const affinity = consumer.affinity !== null && this.env.redeliveryAffinity > 0 ? { key: consumer.affinity, until: Date.now() + this.env.redeliveryAffinity } : null;
    this.redeliver(unacknowledged, affinity);
  }

  /** Puts messages back at the head, in order, counting a redelivery for each. */
  redeliver(messages: readonly BrokerMessage[], affinity: { key: string; until: number } | null = null): void {
    const back: BrokerMessage[] = [];
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i].forRedelivery();
      if (this.env.maximumRedeliveries >= 0 && m.redeliveryCounter > this.env.maximumRedeliveries) {
        this.deadLetter(m, `Delivery[${m.redeliveryCounter}] exceeds redelivery policy limit: maximumRedeliveries=${this.env.maximumRedeliveries}`);
        continue;
      }
      back.push(m);
      this.pending.unshift(m);
      this.held(m, 1);
    }
    if (affinity) this.reserveFor(back, affinity.key, affinity.until);
    this.dispatch();
  }

  /**
   * The consumer is done with the message: it leaves the queue, and the store
   * unless `stored` says that is done. `done` runs once the removal is durable.
   */
  acknowledge(message: BrokerMessage, stored = false, done?: WriteCallback): void {
    this.stats.dequeued++;
    if (!stored) return this.unstore(message, done);
    this.unspill(message);
    done?.();
  }

  /**
   * Moves a message that left the pending list to the dead letter queue. The
   * DLQ's copy is written before this queue's record is removed, so a crash in
   * between duplicates rather than loses.
   */
  deadLetter(message: BrokerMessage, reason: string, done?: WriteCallback): void {
    this.stats.dequeued++;
    this.env.deadLetter(message, reason);
    this.unstore(message, done);
  }

  /** Takes one pending message that memory holds out of the queue and the store (admin: move, remove); null when memory does not hold it. */
  removePending(id: string): BrokerMessage | null {
    let found: BrokerMessage | null = null;
    this.pending.scan((m) => {
      if (found) return null;
      if (m.id !== id) return false;
      found = m;
      return true;
    });
    if (!found) return null;
    this.held(found, -1);
    this.stats.dequeued++;
    this.unstore(found);
    return found;
  }

  /** Drops the oldest pending messages beyond `keep` (a slow topic subscriber's, which memory holds); returns how many. */
  discardOldest(keep: number): number {
    let dropped = 0;
    while (this.pending.size > keep) {
      const m = this.pending.shift()!;
      this.held(m, -1);
      this.stats.discarded++;
      dropped++;
    }
    return dropped;
  }

  /** Drops every pending message (and its stored copy), in memory and in the backlog; returns how many. */
  purge(): number {
    const all = this.pending.clear();
    for (const m of all) {
      this.held(m, -1);
      this.unstore(m);
    }
    const purged = all.length + (this.stored?.count ?? 0) + (this.spilled?.count ?? 0);
    const stored = this.stored?.purge();
    const op = stored ? this.persistence!.purgeOp(stored.after, stored.upTo) : null;
    if (op) this.env.store.write(op);
    const spilled = this.spilled?.purge();
    if (spilled) this.spill!.store.write({ op: 'purge', destination: this.spill!.holder, ...spilled });
    return purged;
  }

  /** The message leaves the store that has it: the message store, or the temp store it spilled to. */
  private unstore(message: BrokerMessage, done?: WriteCallback): void {
    this.unspill(message);
    const op = this.removeOp(message);
    if (op) this.env.store.write(op, done);
    else done?.();
  }

  private unspill(message: BrokerMessage): void {
    if (message.spilled) this.spill?.store.write(this.spill.removeOp(message));
  }

  dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        this.dispatchPending();
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
  }

  /** Expires pending messages whose time has passed (ActiveMQ's expireMessagesPeriod sweep). */
  expirePending(now: number): void {
    const expired: BrokerMessage[] = [];
    this.pending.scan((m) => {
      if (!m.isExpired(now)) return false;
      expired.push(m);
      return true;
    });
    for (const m of expired) this.expireTaken(m);
  }

  private dispatchPending(): void {
    if (this.consumers.length === 0) return;
    this.dispatchFromMemory();
    if (this.pending.size < this.maxPageSize / 2) this.pageIn();
  }

  private dispatchFromMemory(): void {
    const now = Date.now();
    while (this.pending.size > 0) {
      const head = this.pending.shift()!;
      this.held(head, -1);
      if (head.isExpired(now)) {
        this.expireTaken(head);
        continue;
      }
      const consumer = this.pick(head);
      if (consumer) {
        this.handOver(consumer, head);
        continue;
      }
      this.pending.unshift(head);
      this.held(head, 1);
      if (this.anyCapacity()) this.dispatchPastBlockedHead(now);
      return;
    }
  }

  /** The head message has no taker (selector, group owner full): later messages may. */
  private dispatchPastBlockedHead(now: number): void {
    const taken: Array<[Consumer | null, BrokerMessage]> = [];
    this.pending.scan((m) => {
      if (m.isExpired(now)) {
        taken.push([null, m]);
        return true;
      }
      if (!this.anyCapacity()) return null;
      const consumer = this.pick(m);
      if (!consumer) return false;
      taken.push([consumer, m]);
      // Reserve the consumer's room before the next pick.
      this.handOver(consumer, m);
      return true;
    });
    for (const [consumer, m] of taken) {
      this.held(m, -1);
      if (!consumer) this.expireTaken(m);
    }
  }

  /** Every message held in memory counts against the broker's memory limit (persistent ones beyond the high-water mark stay in the store). */
  private held(m: BrokerMessage, sign: 1 | -1): void {
    this.env.memoryChanged(sign * m.size);
  }

  private expireTaken(m: BrokerMessage): void {
    this.stats.expired++;
    this.env.expired(m);
    this.unstore(m);
  }

  private handOver(consumer: Consumer, m: BrokerMessage): void {
    this.stats.dispatched++;
    consumer.deliver(m, this);
  }

  /** Room, and willing: a reservation for an affinity, then the consumer's own filters. */
  private takes(c: Consumer, m: BrokerMessage): boolean {
    if (!c.hasCapacity()) return false;
    const a = m.affinity;
    if (a) {
      if (Date.now() >= a.until) m.affinity = null;
      else if (c.affinity !== a.key) return false;
    }
    return c.accepts(m);
  }

  private pick(m: BrokerMessage): Consumer | null {
    if (this.exclusiveOwner) {
      const owner = this.exclusiveOwner;
      return this.takes(owner, m) ? owner : null;
    }
    const group = m.groupId;
    if (group !== undefined) {
      const owner = this.groups.get(group);
      if (owner) {
        if (m.headers.JMSXGroupSeq === '-1') this.groups.delete(group);
        return this.takes(owner, m) ? owner : null;
      }
      const chosen = this.nextInRotation(m);
      if (chosen && m.headers.JMSXGroupSeq !== '-1') this.groups.set(group, chosen);
      return chosen;
    }
    return this.nextInRotation(m);
  }

  /** Round robin within the highest priority that has a consumer with room that accepts the message. */
  private nextInRotation(m: BrokerMessage): Consumer | null {
    const cs = this.consumers;
    let i = 0;
    while (i < cs.length) {
      const priority = cs[i].priority;
      let j = i + 1;
      while (j < cs.length && cs[j].priority === priority) j++;
      const n = j - i;
      let start = this.roundRobin.get(priority) ?? 0;
      if (start >= n) start = 0;
      for (let k = 0; k < n; k++) {
        const idx = (start + k) % n;
        const c = cs[i + idx];
        if (this.takes(c, m)) {
          this.roundRobin.set(priority, idx + 1);
          return c;
        }
      }
      i = j;
    }
    return null;
  }

  /** Consumers that are local clients, without an affinity elsewhere. */
  get hasLocalConsumers(): boolean {
    return this.consumers.some((c) => c.affinity === null);
  }

  private anyCapacity(): boolean {
    for (const c of this.consumers) if (c.hasCapacity()) return true;
    return false;
  }

  private electExclusive(): void {
    this.exclusiveOwner = this.consumers.find((c) => c.exclusive) ?? null;
  }
}

/**
 * The store contract. The store knows destinations only by key
 * (`queue://NAME`, `topic://NAME`) and messages only as records; it knows
 * nothing of the broker.
 */

export interface StoredMessage {
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly priority: number;
  readonly expiration: number;
  readonly timestamp: number;
  readonly brokerPath: readonly string[];
  readonly redeliveryCounter: number;
  readonly brokerHeaders?: Record<string, string> | undefined;
  /** On recovery: the network broker it had last been dispatched to and not acknowledged by. */
  readonly dispatchedTo?: string | undefined;
  /** Where the store keeps it (set on messages read back from the store). */
  readonly position?: number | undefined;
  /** False for a non-persistent message (a temp store holds those); absent means persistent. */
  readonly persistent?: boolean | undefined;
}

/** A durable topic subscription (`client-id` + `activemq.subscriptionName`). */
export interface DurableSubscriptionRecord {
  /** Unique to this incarnation of the subscription: records name it by this. */
  readonly id: string;
  /** `clientId:subscriptionName`. */
  readonly key: string;
  readonly clientId: string;
  readonly subscriptionName: string;
  /** Topic key, possibly a wildcard (`topic://a.>`). */
  readonly destination: string;
  readonly selector?: string | undefined;
  readonly noLocal?: boolean | undefined;
}

/**
 * What the store records. A topic message is added once, naming the durable
 * subscriptions (by id) that must keep it; `remove` and `dispatched` of a
 * topic message name the subscription.
 */
export type StoreOp =
  | {
      op: 'add';
      destination: string;
      message: StoredMessage;
      subscriptions?: readonly string[] | undefined;
      /** The producer's duplicate-detection id (`_AMQ_DUPL_ID`): remembered, per destination, across restarts. */
      duplicateId?: string | undefined;
    }
  /** `position`: where the store keeps the message (as it gave it); journals written before positions name the message id only. */
  | { op: 'remove'; destination: string; messageId: string; subscription?: string | undefined; position?: number | undefined }
  /**
   * The message was handed to a consumer (`consumer`: the broker, for a
   * network consumer): after a restart it comes back marked redelivered.
   */
  | { op: 'dispatched'; destination: string; messageId: string; subscription?: string | undefined; consumer?: string | undefined; position?: number | undefined }
  /** A queue's pending messages with positions after `after`, up to `upTo`, are dropped: a purge leaves what consumers hold and what is still being written. */
  | { op: 'purge'; destination: string; after: number; upTo: number }
  | { op: 'add-subscription'; subscription: DurableSubscriptionRecord }
  | { op: 'remove-subscription'; destination: string; id: string }
  | { op: 'add-destination'; destination: string }
  | { op: 'remove-destination'; destination: string };

export interface RecoveredSubscription {
  record: DurableSubscriptionRecord;
  /** Messages it has pending (read them with `backlog(subscriptionHolder(record.id))`). */
  pending: number;
}

/**
 * What a store holds when opened: an index, not the messages. Pending
 * messages stay where they are and are read on demand (`backlog`).
 */
export interface RecoveredState {
  /** Destinations created and not removed, queues and topics. */
  destinations: string[];
  /** Each queue with pending messages, and how many. */
  queues: Map<string, number>;
  subscriptions: RecoveredSubscription[];
  /** Each destination's last duplicate-detection ids, oldest first. */
  duplicateIds: Map<string, string[]>;
  /** Operations replayed to get here. */
  operations: number;
  seconds: number;
}

/** A pending message read back from the store: where it is, and the destination it was sent to. */
export interface PagedMessage {
  destination: string;
  position: number;
  message: StoredMessage;
}

/**
 * The pending messages of one queue or durable subscription, as the store
 * holds them, oldest first. A holder is a queue's destination key or
 * `subscriptionHolder(id)` (holders.ts).
 */
export interface StoredBacklog {
  /** Pending messages: those read already and not yet removed count too. */
  readonly size: number;
  /** The position of the newest (0 when empty). */
  readonly last: number;
  /** How many come after `position`. */
  countAfter(position: number): number;
  /**
   * Up to `max` messages after position `after` (0: from the first) and up to
   * `upTo`, read from the store; `upTo` must name a write that completed. One
   * that cannot be read (damage) is dropped from the store, with a WARN, and
   * skipped.
   */
  read(after: number, upTo: number, max: number): Promise<PagedMessage[]>;
}

/** `position`: where the store put the message of an add (for a transaction, of each of its ops in order). */
export type WriteCallback = (err?: Error, position?: number) => void;
export type CommitCallback = (err?: Error, positions?: ReadonlyArray<number | undefined>) => void;

/** The room a store has, for the broker's store limit (ActiveMQ's storeUsage). */
export interface StoreSpace {
  /** Bytes its files take. */
  used: number;
  /** Bytes it can still write before the disk's reserve (kept for acknowledgements and checkpoints); Infinity when memory. */
  available: number;
  /** A write failed for want of space, and the disk has not been seen with room since. */
  diskFull: boolean;
}

export interface MessageStore {
  /**
   * True when pending messages can stay in the store only (paged in on
   * demand); false when the store is memory itself.
   */
  readonly pagesOut: boolean;
  /** Opens the store and returns what it holds. Called once, before any write. */
  recover(): Promise<RecoveredState>;
  /**
   * Records one operation. `done` runs once it is as durable as the store
   * promises, and callbacks run in the order the writes were made.
   */
  write(op: StoreOp, done?: WriteCallback): void;
  /** Records a transaction's operations all-or-nothing. */
  commit(transactionId: string, ops: readonly StoreOp[], done?: CommitCallback): void;
  /** A queue's or durable subscription's pending messages. */
  backlog(holder: string): StoredBacklog;
  /** What the store takes and how much room is left (measured now and then, counted in between). */
  space(): StoreSpace;
  /** Frees what it can now and measures again (GC): called while producers wait for room. */
  reclaim(): Promise<void>;
  /** Makes everything written so far durable (clean shutdown) and releases files. */
  close(): Promise<void>;
  /** For status pages and logs. */
  describe(): Record<string, unknown>;
}

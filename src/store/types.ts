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
  | { op: 'remove'; destination: string; messageId: string; subscription?: string | undefined }
  /**
   * The message was handed to a consumer (`consumer`: the broker, for a
   * network consumer): after a restart it comes back marked redelivered.
   */
  | { op: 'dispatched'; destination: string; messageId: string; subscription?: string | undefined; consumer?: string | undefined }
  | { op: 'add-subscription'; subscription: DurableSubscriptionRecord }
  | { op: 'remove-subscription'; destination: string; id: string }
  | { op: 'add-destination'; destination: string }
  | { op: 'remove-destination'; destination: string };

export interface RecoveredSubscription {
  record: DurableSubscriptionRecord;
  /** With the topic each was published to (a wildcard subscription spans several). */
  pending: Iterable<{ destination: string; message: StoredMessage }>;
}

/**
 * What a store holds when opened. Message lists may be read from disk as they
 * are iterated: iterate each once, before writing to the store.
 */
export interface RecoveredState {
  /** Destinations created and not removed, queues and topics. */
  destinations: string[];
  /** Each queue's pending messages in the order they were added. */
  queues: Map<string, Iterable<StoredMessage>>;
  subscriptions: RecoveredSubscription[];
  /** Each destination's last duplicate-detection ids, oldest first. */
  duplicateIds: Map<string, string[]>;
  /** Operations replayed to get here. */
  operations: number;
  seconds: number;
}

export type WriteCallback = (err?: Error) => void;

export interface MessageStore {
  /** Opens the store and returns what it holds. Called once, before any write. */
  recover(): Promise<RecoveredState>;
  /**
   * Records one operation. `done` runs once it is as durable as the store
   * promises, and callbacks run in the order the writes were made.
   */
  write(op: StoreOp, done?: WriteCallback): void;
  /** Records a transaction's operations all-or-nothing. */
  commit(transactionId: string, ops: readonly StoreOp[], done?: WriteCallback): void;
  /** Makes everything written so far durable (clean shutdown) and releases files. */
  close(): Promise<void>;
  /** For status pages and logs. */
  describe(): Record<string, unknown>;
}

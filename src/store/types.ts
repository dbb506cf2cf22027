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
}

/** A durable topic subscription (`client-id` + `activemq.subscriptionName`). */
export interface DurableSubscriptionRecord {
  /** `clientId:subscriptionName`. */
  readonly key: string;
  readonly clientId: string;
  readonly subscriptionName: string;
  /** Topic key, possibly a wildcard (`topic://a.>`). */
  readonly destination: string;
  readonly selector?: string | undefined;
  readonly noLocal?: boolean | undefined;
}

export type StoreOp =
  | { op: 'add'; destination: string; message: StoredMessage; subscriptions?: readonly string[] | undefined }
  | { op: 'remove'; destination: string; messageId: string; subscription?: string | undefined }
  | { op: 'add-subscription'; subscription: DurableSubscriptionRecord }
  | { op: 'remove-subscription'; destination: string; key: string }
  | { op: 'add-destination'; destination: string }
  | { op: 'remove-destination'; destination: string };

export interface RecoveredSubscription {
  record: DurableSubscriptionRecord;
  /** With the topic each was published to (a wildcard subscription spans several). */
  pending: Array<{ destination: string; message: StoredMessage }>;
}

export interface RecoveredState {
  /** Destinations created and not removed, queues and topics. */
  destinations: string[];
  /** Each queue's pending messages in the order they were added. */
  queues: Map<string, StoredMessage[]>;
  subscriptions: RecoveredSubscription[];
  /** Operations replayed to get here. */
  operations: number;
  seconds: number;
}

export type WriteCallback = (err?: Error) => void;

export interface MessageStore {
  /** Opens the store and returns what it holds. Called once, before any write. */
  recover(): Promise<RecoveredState>;
  /** Records one operation; `done` runs once it is as durable as the store promises. */
  write(op: StoreOp, done?: WriteCallback): void;
  /** Records a transaction's operations all-or-nothing. */
  commit(transactionId: string, ops: readonly StoreOp[], done?: WriteCallback): void;
  /** Makes everything written so far durable (clean shutdown) and releases files. */
  close(): Promise<void>;
  /** For status pages and logs. */
  describe(): Record<string, unknown>;
}

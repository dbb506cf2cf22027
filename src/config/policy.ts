/** Destination policy: ActiveMQ's `<policyEntry>` settings that amq-sim honours, with ActiveMQ's defaults. */
export interface DestinationPolicy {
  /** Order a queue's dispatch by JMS priority (ActiveMQ `prioritizedMessages`, default false). */
  prioritizedMessages: boolean;
  /** Redeliveries before a message goes to the DLQ; -1 = never (ActiveMQ RedeliveryPolicy default 6). */
  maximumRedeliveries: number;
  /** `shared`: every dead letter goes to ActiveMQ.DLQ; `individual`: one DLQ per destination. */
  deadLetterStrategy: 'shared' | 'individual';
  /** Prefixes of `individualDeadLetterStrategy`. */
  deadLetterQueuePrefix: string;
  deadLetterTopicPrefix: string;
  /** Expired messages go to the DLQ (true) or are dropped (false). */
  processExpired: boolean;
  /** Non-persistent messages are dead-lettered too (ActiveMQ default false: they are dropped). */
  processNonPersistent: boolean;
  /** NACK sends the message straight to the DLQ, as ActiveMQ's poison ack does (default true). */
  nackToDeadLetter: boolean;
  /** Period of the sweep that expires pending messages, ms (ActiveMQ `expireMessagesPeriod`). */
  expireMessagesPeriod: number;
  /** Default `activemq.prefetchSize` for queue and topic subscriptions (ActiveMQ: 1000 and 32766). */
  queuePrefetch: number;
  topicPrefetch: number;
  durableTopicPrefetch: number;
  /** Recent messages kept per topic for `activemq.retroactive` subscribers (ActiveMQ's FixedCountSubscriptionRecoveryPolicy). */
  retroactiveMessages: number;
  /**
   * A destination's own memory limit, bytes (ActiveMQ `policyEntry
   * memoryLimit`): when its messages in memory reach it, its producers are
   * flow-controlled. 0 = only the broker's memory limit applies.
   */
  memoryLimit: number;
  /** Producers to a full destination wait (true) or, false, non-persistent messages spill to the temp store (ActiveMQ `producerFlowControl`). */
  producerFlowControl: boolean;
  /** Messages paged in from the store at a time (ActiveMQ `maxPageSize`). */
  maxPageSize: number;
  /** Percent of the memory limit above which persistent messages stay in the store only (ActiveMQ `cursorMemoryHighWaterMark`). */
  cursorMemoryHighWaterMark: number;
  /**
   * ActiveMQ's `constantPendingMessageLimitStrategy limit`: a non-durable
   * topic subscriber that falls behind keeps at most this many messages
   * waiting for it (besides those it was given), the oldest are discarded;
   * -1 = no limit (ActiveMQ default).
   */
  pendingMessageLimit: number;
  /**
   * ms during which messages a network bridge had taken and not acknowledged
   * (its connection dropped, or this broker restarted) wait for that bridge's
   * broker to come back, so they are not delivered twice through two brokers.
   * 0 = off (ActiveMQ: redispatched at once, to anyone).
   */
  networkRedeliveryAffinity: number;
}

export const DEFAULT_POLICY: Readonly<DestinationPolicy> = {
  prioritizedMessages: false,
  maximumRedeliveries: 6,
  deadLetterStrategy: 'shared',
  deadLetterQueuePrefix: 'ActiveMQ.DLQ.Queue.',
  deadLetterTopicPrefix: 'ActiveMQ.DLQ.Topic.',
  processExpired: true,
  processNonPersistent: false,
  nackToDeadLetter: true,
  expireMessagesPeriod: 30_000,
  queuePrefetch: 1000,
  topicPrefetch: 32_766,
  durableTopicPrefetch: 100,
  retroactiveMessages: 100,
  memoryLimit: 0,
  producerFlowControl: true,
  maxPageSize: 200,
  cursorMemoryHighWaterMark: 70,
  pendingMessageLimit: -1,
  networkRedeliveryAffinity: 10_000,
};

/** The settings of a destination policy that can differ per destination. */
export type DestinationLimits = Pick<DestinationPolicy, 'memoryLimit' | 'producerFlowControl' | 'maxPageSize' | 'cursorMemoryHighWaterMark' | 'pendingMessageLimit'>;

/**
 * ActiveMQ's `<policyEntry queue="orders.>" memoryLimit="1 mb"/>`: settings
 * for the destinations a name or wildcard matches (`queue` or `topic`);
 * unset ones come from `policy`. The most specific entry wins.
 */
export interface PolicyEntry extends Partial<DestinationLimits> {
  queue?: string;
  topic?: string;
}

export const SHARED_DLQ = 'ActiveMQ.DLQ';

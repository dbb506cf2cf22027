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
  /** Bytes of pending non-persistent messages above which producers are paused (producer flow control). 0 = no limit. */
  memoryLimit: number;
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
  memoryLimit: 512 * 1024 * 1024,
  networkRedeliveryAffinity: 10_000,
};

export const SHARED_DLQ = 'ActiveMQ.DLQ';

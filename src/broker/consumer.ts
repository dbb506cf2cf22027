import type { BrokerMessage } from './message.js';
import type { Queue } from './queue.js';

/** Anything a queue dispatches to: a STOMP subscription, or a network bridge's demand subscription. */
export interface Consumer {
  /** Broker-wide unique id (ActiveMQ's ConsumerId). */
  readonly consumerId: string;
  /** `activemq.priority`; network consumers may run lower. Higher is served first. */
  readonly priority: number;
  /** `activemq.exclusive`. */
  readonly exclusive: boolean;
  /** A consumer on behalf of another broker (a network bridge), not a local client. */
  readonly isNetwork: boolean;
  /** For a network consumer: the broker it takes messages for. */
  readonly remoteBroker: string | null;
  /** Room for one more message now (prefetch and transport back-pressure). */
  hasCapacity(): boolean;
  /** Whether this consumer may be given this message (selector, noLocal, network filters). */
  accepts(message: BrokerMessage): boolean;
  /** Hands the message over; the consumer acknowledges it later through `source`. */
  deliver(message: BrokerMessage, source: Queue): void;
}

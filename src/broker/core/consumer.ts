import type { BrokerMessage } from './message.js';
import type { Queue } from './queue.js';

/** Anything a queue dispatches to: a client's subscription, or a consumer an extension made (a network bridge's). */
export interface Consumer {
  /** Broker-wide unique id (ActiveMQ's ConsumerId). */
  readonly consumerId: string;
  /** `activemq.priority`; network consumers may run lower. Higher is served first. */
  readonly priority: number;
  /** `activemq.exclusive`. */
  readonly exclusive: boolean;
  /**
   * Null for a local client. For a consumer that takes messages on behalf of
   * another place (a network bridge's, for another broker), that place's name:
   * what it took and gave back unacknowledged is kept for consumers of the same
   * affinity for a while (`redeliveryAffinity`), since it may have got there.
   */
  readonly affinity: string | null;
  /** Room for one more message now (prefetch and transport back-pressure). */
  hasCapacity(): boolean;
  /** Whether this consumer may be given this message (selector, noLocal, an extension's filter). */
  accepts(message: BrokerMessage): boolean;
  /** Hands the message over; the consumer acknowledges it later through `source`. */
  deliver(message: BrokerMessage, source: Queue): void;
}

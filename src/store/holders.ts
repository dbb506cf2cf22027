/**
 * A holder is what keeps pending messages in a store: a queue (named by its
 * destination key) or a durable subscription (named by this key).
 */
const SUBSCRIPTION_PREFIX = 'subscription:';

export function subscriptionHolder(id: string): string {
  return SUBSCRIPTION_PREFIX + id;
}

/** The durable subscription a holder key stands for, or undefined for a queue's. */
export function subscriptionOf(holder: string): string | undefined {
  return holder.startsWith(SUBSCRIPTION_PREFIX) ? holder.slice(SUBSCRIPTION_PREFIX.length) : undefined;
}

/** The holder of scheduled jobs (ActiveMQ keeps them in its JobSchedulerStore, scheduler `JMS`). */
export const SCHEDULER_HOLDER = 'scheduler://JMS';

/** True for a queue's holder: neither a durable subscription's nor the scheduler's. */
export function isQueueHolder(holder: string): boolean {
  return holder !== SCHEDULER_HOLDER && subscriptionOf(holder) === undefined;
}

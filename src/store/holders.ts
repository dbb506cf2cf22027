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

import type { BrokerMessage } from './message.js';
import type { PendingAck } from './router.js';
import type { StompSubscription } from './stomp-subscription.js';

/** What a STOMP transaction holds until COMMIT or ABORT: nothing of it is visible or stored before. */
export class Transaction {
  readonly sends: BrokerMessage[] = [];
  readonly acks: Array<PendingAck & { subscription: StompSubscription }> = [];
  readonly nacks: Array<PendingAck & { subscription: StompSubscription }> = [];

  constructor(
    /** Unique across the broker's lifetime: the store records it. */
    readonly id: string,
  ) {}
}

import type { BrokerMessage } from '../core/message.js';
import type { Delivery, StompSubscription } from './subscription.js';

/** A delivery acknowledged (or rejected) inside a transaction. */
export interface TransactedDelivery extends Delivery {
  subscription: StompSubscription;
}

/** What a STOMP transaction holds until COMMIT or ABORT: nothing of it is visible or stored before. */
export class Transaction {
  readonly sends: BrokerMessage[] = [];
  readonly acks: TransactedDelivery[] = [];
  readonly nacks: TransactedDelivery[] = [];
  /** Bytes its sends hold in memory (counted against the memory limit until it ends). */
  bytes = 0;

  constructor(
    /** Unique across the broker's lifetime: the store records it. */
    readonly id: string,
  ) {}
}

import type { DurableSubscriptionRecord } from '../../store/types.js';
import type { Consumer } from './consumer.js';
import type { Destination } from './destination.js';
import type { BrokerMessage } from './message.js';
import { ArrivalLine } from './arrival-line.js';
import type { Queue } from './queue.js';

/**
 * One subscription to a topic (or a topic wildcard). Every message published
 * to a matching topic that passes `filter` is put on the subscription's own
 * queue, from which its consumer takes it. A durable subscription outlives its
 * consumer; a plain one dies with it.
 */
export class TopicSubscription {
  consumer: Consumer | null = null;

  constructor(
    readonly destination: Destination,
    readonly queue: Queue,
    readonly filter: (m: BrokerMessage) => boolean,
    readonly durable: DurableSubscriptionRecord | null,
  ) {}
}

export interface TopicStatistics {
  enqueued: number;
}

export class Topic {
  readonly subscriptions = new Set<TopicSubscription>();
  /** Keeps publication order while persistent messages are being stored. */
  readonly arrivals = new ArrivalLine();
  readonly stats: TopicStatistics = { enqueued: 0 };
  /** Recent messages for retroactive subscribers. */
  readonly recent: BrokerMessage[] = [];

  constructor(readonly destination: Destination) {}

  remember(m: BrokerMessage, keep: number): void {
    if (keep <= 0) return;
    m.compact();
    this.recent.push(m);
    if (this.recent.length > keep) this.recent.shift();
  }
}

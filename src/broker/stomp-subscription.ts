import { escapeHeaderValue } from '../stomp/index.js';
import type { Consumer } from './consumer.js';
import { addToList } from './multimap.js';
import type { Destination } from './destination.js';
import type { BrokerMessage } from './message.js';
import type { Queue } from './queue.js';
import type { TopicSubscription } from './topic.js';

export type AckMode = 'auto' | 'client' | 'client-individual';

export interface Delivery {
  message: BrokerMessage;
  source: Queue;
  /** The 1.2 `ack` header value. */
  ackId: string;
  /** Delivery order within the subscription. */
  seq: number;
}

export interface SubscriptionSettings {
  id: string;
  destination: Destination;
  ackMode: AckMode;
  prefetch: number;
  priority: number;
  exclusive: boolean;
  noLocal: boolean;
  selector: ((m: BrokerMessage) => boolean) | null;
  selectorText: string | undefined;
  durableName: string | undefined;
}

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  readonly connectionId: string;
  /** False while the transport's backlog is over its high-water mark. */
  readonly writable: boolean;
  sendMessage(subscription: StompSubscription, delivery: Delivery): void;
}

/**
 * A STOMP SUBSCRIBE: a consumer on a queue (or on its topic subscription's
 * private queue) with a prefetch window and an ack mode. Messages sent and not
 * yet acknowledged are `inflight`, in delivery order.
 */
export class StompSubscription implements Consumer {
  readonly inflight = new Map<string, Delivery>();
  topicSubscription: TopicSubscription | null = null;
  closed = false;
  private deliveries = 0;
  private readonly idLines: [string, string];

  constructor(
    readonly consumerId: string,
    readonly settings: SubscriptionSettings,
    private readonly owner: SubscriptionOwner,
    private readonly nextAckId: () => string,
  ) {
    this.idLines = [`subscription:${settings.id}\n`, `subscription:${escapeHeaderValue(settings.id)}\n`];
  }

  /** The MESSAGE frame's subscription header line, escaped for 1.1+ or not. */
  headerLine(escape: boolean): string {
    return this.idLines[escape ? 1 : 0];
  }

  get id(): string {
    return this.settings.id;
  }
  get priority(): number {
    return this.settings.priority;
  }
  get exclusive(): boolean {
    return this.settings.exclusive;
  }

  hasCapacity(): boolean {
    return !this.closed && this.owner.writable && (this.settings.ackMode === 'auto' || this.inflight.size < this.settings.prefetch);
  }

  /** Selector and noLocal are applied here for queues; a topic subscription applies them when it takes a message. */
  accepts(m: BrokerMessage): boolean {
    if (this.topicSubscription) return true;
    return this.matches(m);
  }

  matches(m: BrokerMessage): boolean {
    if (this.settings.noLocal && m.producerId === this.owner.connectionId) return false;
    return this.settings.selector === null || this.settings.selector(m);
  }

  deliver(message: BrokerMessage, source: Queue): void {
    const delivery: Delivery = { message, source, ackId: this.settings.ackMode === 'auto' ? '' : this.nextAckId(), seq: ++this.deliveries };
    if (this.settings.ackMode === 'auto') {
      this.owner.sendMessage(this, delivery);
      source.acknowledge(message);
      return;
    }
    message.compact();
    this.inflight.set(message.id, delivery);
    this.owner.sendMessage(this, delivery);
  }

  /**
   * The deliveries an ACK of `messageId` covers: just that one in
   * client-individual mode, it and every earlier one in client mode
   * (cumulative, as ActiveMQ). Empty if the id is not in flight.
   */
  takeAcknowledged(messageId: string): Delivery[] {
    const target = this.inflight.get(messageId);
    if (!target) return [];
    if (this.settings.ackMode !== 'client') {
      this.inflight.delete(messageId);
      return [target];
    }
    const taken: Delivery[] = [];
    for (const [id, d] of this.inflight) {
      this.inflight.delete(id);
      taken.push(d);
      if (id === messageId) break;
    }
    return taken;
  }

  /** Puts back deliveries whose transactional ack was aborted, in their original order. */
  restore(returned: readonly Delivery[]): void {
    const all = [...this.inflight.values(), ...returned].sort((a, b) => a.seq - b.seq);
    this.inflight.clear();
    for (const d of all) this.inflight.set(d.message.id, d);
  }

  /** Just the one delivery, whatever the ack mode (NACK). */
  takeOne(messageId: string): Delivery[] {
    const d = this.inflight.get(messageId);
    if (!d) return [];
    this.inflight.delete(messageId);
    return [d];
  }

  /** Unacknowledged messages grouped by the queue they came from, in delivery order. */
  takeUnacknowledged(): Map<Queue, BrokerMessage[]> {
    const bySource = new Map<Queue, BrokerMessage[]>();
    for (const d of this.inflight.values()) addToList(bySource, d.source, d.message);
    this.inflight.clear();
    return bySource;
  }
}

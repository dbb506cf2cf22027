import { escapeHeaderValue } from '../../stomp/index.js';
import type { Consumer } from '../core/consumer.js';
import type { Destination } from '../core/destination.js';
import type { BrokerMessage } from '../core/message.js';
import { addToList } from '../core/multimap.js';
import type { Queue } from '../core/queue.js';
import type { TopicSubscription } from '../core/topic.js';
import type { PeerConsumer } from './peer.js';

export type AckMode = 'auto' | 'client' | 'client-individual';
export const ACK_MODES: readonly AckMode[] = ['auto', 'client', 'client-individual'];

export interface Delivery {
  message: BrokerMessage;
  source: Queue;
  /** What an ACK names it by: the 1.2 `ack` header value, or the message-id in 1.0 and 1.1. */
  key: string;
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
  /** Set when a peer (another broker's bridge) made this subscription to pull messages towards its broker. */
  peer: PeerConsumer | undefined;
}

/** What a subscription needs from its connection. */
export interface SubscriptionOwner {
  readonly connectionId: string;
  /** False while the transport's backlog is over its high-water mark. */
  readonly writable: boolean;
  /** Writes a MESSAGE frame; `ackId` is the 1.2 `ack` header value, or empty for none. */
  sendMessage(subscription: StompSubscription, message: BrokerMessage, ackId: string): void;
}

/**
 * A STOMP SUBSCRIBE: a consumer on a queue (or on its topic subscription's
 * private queue) with a prefetch window and an ack mode. Messages sent and not
 * yet acknowledged are `inflight`, in delivery order, keyed as ACKs name them.
 * A 1.2 ack id is `<index>-<seq>`, so the connection finds the subscription
 * from the id alone.
 */
export class StompSubscription implements Consumer {
  readonly inflight = new Map<string, Delivery>();
  topicSubscription: TopicSubscription | null = null;
  closed = false;
  /** Takes nothing yet: its SUBSCRIBE's RECEIPT has not been written (ActiveMQ writes the RECEIPT first). */
  held = false;
  private deliveries = 0;
  private readonly idLines: [string, string];

  constructor(
    readonly consumerId: string,
    readonly settings: SubscriptionSettings,
    private readonly owner: SubscriptionOwner,
    /** Unique within the connection. */
    readonly index: number,
    /** STOMP 1.2: deliveries carry an `ack` header. */
    private readonly ackIds: boolean,
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
  get affinity(): string | null {
    return this.settings.peer?.affinity ?? null;
  }

  hasCapacity(): boolean {
    return !this.closed && !this.held && this.owner.writable && (this.settings.ackMode === 'auto' || this.inflight.size < this.settings.prefetch);
  }

  /** Selector and noLocal are applied here for queues; a topic subscription applies them when it takes a message. */
  accepts(m: BrokerMessage): boolean {
    if (this.topicSubscription) return true;
    return this.matches(m);
  }

  matches(m: BrokerMessage): boolean {
    if (this.settings.noLocal && m.producerId === this.owner.connectionId) return false;
    if (this.settings.peer && !this.settings.peer.accepts(m)) return false;
    return this.settings.selector === null || this.settings.selector(m);
  }

  deliver(message: BrokerMessage, source: Queue): void {
    if (this.settings.ackMode === 'auto') {
      this.owner.sendMessage(this, message, '');
      source.acknowledge(message);
      return;
    }
    const seq = ++this.deliveries;
    const ackId = this.ackIds ? `${this.index}-${seq}` : '';
    message.compact();
    this.inflight.set(this.ackIds ? ackId : message.id, { message, source, key: this.ackIds ? ackId : message.id, seq });
    source.markDispatched(message, this, () => {
      if (!this.closed) this.owner.sendMessage(this, message, ackId);
    });
  }

  /**
   * The deliveries an ACK of `key` covers: just that one in
   * client-individual mode, it and every earlier one in client mode
   * (cumulative, as ActiveMQ). Empty if nothing by that key is in flight.
   */
  takeAcknowledged(key: string): Delivery[] {
    if (this.settings.ackMode !== 'client') return this.takeOne(key);
    if (!this.inflight.has(key)) return [];
    const taken: Delivery[] = [];
    for (const [k, d] of this.inflight) {
      this.inflight.delete(k);
      taken.push(d);
      if (k === key) break;
    }
    return taken;
  }

  /** Puts back deliveries whose transactional ack was aborted, in their original order. */
  restore(returned: readonly Delivery[]): void {
    const all = [...this.inflight.values(), ...returned].sort((a, b) => a.seq - b.seq);
    this.inflight.clear();
    for (const d of all) this.inflight.set(d.key, d);
  }

  /** Just the one delivery, whatever the ack mode (NACK). */
  takeOne(key: string): Delivery[] {
    const d = this.inflight.get(key);
    if (!d) return [];
    this.inflight.delete(key);
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

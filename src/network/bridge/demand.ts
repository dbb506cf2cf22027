import { addToList, type BrokerMessage, type Consumer, type Destination, type Queue, type TopicSubscription } from '../../broker/extension.js';
import type { NetworkOptions } from '../connector-config.js';
import { mayForward } from '../protocol.js';

/** What a demand subscription needs from the bridge's push side. */
export interface ForwardingBridge {
  /** The broker at the other end. */
  readonly remoteName: string;
  readonly options: NetworkOptions;
  /** Up, not stalled, and its connection not backed up. */
  readonly canForward: boolean;
  forward(demand: DemandSubscription, message: BrokerMessage, source: Queue): void;
  hasLocalConsumers(m: BrokerMessage): boolean;
}

/**
 * A network consumer on this broker for demand on the remote one (ActiveMQ's
 * demand subscription): it takes messages the remote broker's consumers want
 * and hands them to the bridge, which forwards them and acknowledges them here
 * only once the remote broker has stored them.
 */
export class DemandSubscription implements Consumer {
  readonly exclusive = false;
  /** Forwarded and not yet acknowledged by the remote broker. */
  readonly inflight = new Map<BrokerMessage, Queue>();
  /** Remote consumers this subscription stands for (one with conduit subscriptions). */
  refs = 0;
  topicSubscription: TopicSubscription | null = null;

  constructor(
    readonly consumerId: string,
    readonly destination: Destination,
    readonly priority: number,
    /** The remote consumer's selector, applied only without conduit subscriptions (as ActiveMQ). */
    private readonly selector: ((m: BrokerMessage) => boolean) | null,
    private readonly bridge: ForwardingBridge,
  ) {}

  get affinity(): string {
    return this.bridge.remoteName;
  }

  hasCapacity(): boolean {
    return this.bridge.canForward && this.inflight.size < this.bridge.options.prefetchSize;
  }

  accepts(m: BrokerMessage): boolean {
    const o = this.bridge.options;
    if (!mayForward(m.brokerPath, this.bridge.remoteName, m.destination.type === 'queue', o, () => this.bridge.hasLocalConsumers(m), m.arrivedAt)) return false;
    return this.selector === null || this.selector(m);
  }

  deliver(message: BrokerMessage, source: Queue): void {
    message.compact();
    this.inflight.set(message, source);
    // Forwarded once the store knows where it went: after a crash it waits for that broker, not for any.
    source.markDispatched(message, this, () => {
      if (this.inflight.has(message)) this.bridge.forward(this, message, source);
    });
  }

  /** What was forwarded and not acknowledged, by queue, in order: it goes back when the subscription ends. */
  takeUnacknowledged(): Map<Queue, BrokerMessage[]> {
    const bySource = new Map<Queue, BrokerMessage[]>();
    for (const [m, q] of this.inflight) addToList(bySource, q, m);
    this.inflight.clear();
    return bySource;
  }
}

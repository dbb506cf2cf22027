/**
 * Push, on every bridge: the remote broker's consumer advisories say where
 * its demand is; a DemandSubscription here takes those messages and the
 * bridge SENDs them there, acknowledging them here only when the remote
 * broker's RECEIPT says it stored them (store and forward).
 */
import { compileSelector, parseStompDestination, stompName, type BrokerMessage, type Destination, type Queue } from '../../broker/extension.js';
import { escapeHeaderValue, withHeadAndBody } from '../../stomp/index.js';
import { BATCH_BYTES, BATCH_HEADER, encodeBatch } from '../batch.js';
import { bridged } from '../connector-config.js';
import { parseConsumerAdvisory, type RemoteConsumer } from '../protocol.js';
import type { BridgeContext } from './context.js';
import { DemandSubscription, type ForwardingBridge } from './demand.js';

/** The subscription id of the remote consumer advisories. */
export const ADVISORY_SUBSCRIPTION = 'advisories';
const BACKLOG_LIMIT = 1024 * 1024;

type Outgoing = { demand: DemandSubscription; message: BrokerMessage; source: Queue };

/** Temporary destinations are not bridged: a name that resolves to one is refused. */
const NO_TEMPORARIES = {
  temporary: (): never => {
    throw new Error('temporary destinations are not bridged');
  },
};

export class Push implements ForwardingBridge {
  private readonly demands = new Map<string, DemandSubscription>();
  /** Remote consumer id → the demand key it counts in. */
  private readonly remoteConsumers = new Map<string, string>();
  private pending: Outgoing[] = [];
  /** Forwarded batches by the receipt on their last SEND. */
  private readonly outstanding = new Map<string, Outgoing[]>();

  constructor(private readonly ctx: BridgeContext) {}

  get remoteName(): string {
    return this.ctx.remote;
  }

  get options() {
    return this.ctx.options;
  }

  get canForward(): boolean {
    return this.ctx.isUp() && this.ctx.session.backlog <= BACKLOG_LIMIT;
  }

  start(): void {
    const c = this.ctx;
    c.request('SUBSCRIBE', { id: ADVISORY_SUBSCRIPTION, destination: '/topic/ActiveMQ.Advisory.Consumer.>', ack: 'auto' }, 'consumer advisories');
    for (const d of c.options.staticallyIncludedDestinations) this.addDemand(`static:${d.key}`, d, [], undefined);
  }

  onAdvisory(body: Buffer): void {
    let advisory;
    try {
      advisory = parseConsumerAdvisory(body.toString('utf8'));
    } catch (err) {
      this.ctx.logger.warn({ remote: this.remoteName, err: (err as Error).message }, `Ignored a consumer advisory from ${this.remoteName}: ${(err as Error).message}`);
      return;
    }
    if ('removed' in advisory) this.remoteConsumerRemoved(advisory.removed);
    else this.remoteConsumerAdded(advisory.added);
  }

  private remoteConsumerRemoved(consumerId: string): void {
    const key = this.remoteConsumers.get(consumerId);
    if (key === undefined) return;
    this.remoteConsumers.delete(consumerId);
    const demand = this.demands.get(key);
    if (demand && --demand.refs <= 0) this.removeDemand(key);
  }

  private remoteConsumerAdded(info: RemoteConsumer): void {
    const o = this.ctx.options;
    const path = info.brokerPath;
    // Demand that came through this broker, or has travelled consumerTTL hops, goes no further (ActiveMQ's consumer loop rules).
    if (path.includes(this.ctx.local) || path.length >= o.consumerTTL) return;
    let dest: Destination;
    try {
      dest = parseStompDestination(info.destination, NO_TEMPORARIES);
    } catch {
      return;
    }
    if (!bridged(dest, o)) return;
    const conduit = o.conduitSubscriptions || dest.type === 'topic';
    const key = conduit ? dest.key : info.consumerId;
    const existing = this.demands.get(key);
    if (existing) {
      existing.refs++;
      this.remoteConsumers.set(info.consumerId, key);
      return;
    }
    if (this.addDemand(key, dest, path, conduit ? undefined : info.selector)) this.remoteConsumers.set(info.consumerId, key);
  }

  /** Starts forwarding a destination; false when the remote consumer's selector cannot be compiled (then nothing is forwarded for it). */
  private addDemand(key: string, dest: Destination, path: readonly string[], selector: string | undefined): boolean {
    const c = this.ctx;
    const o = c.options;
    const priority = o.decreaseNetworkConsumerPriority ? o.consumerPriorityBase - path.length : 0;
    let filter: ((m: BrokerMessage) => boolean) | null = null;
    if (selector) {
      try {
        filter = compileSelector(selector);
      } catch (err) {
        c.logger.warn({ remote: this.remoteName, selector, err: (err as Error).message }, `Demand for ${stompName(dest)} from ${this.remoteName} ignored: its selector is invalid (${(err as Error).message})`);
        return false;
      }
    }
    const demand = new DemandSubscription(c.host.newId('nc'), dest, priority, filter, this);
    demand.refs = 1;
    this.demands.set(key, demand);
    const router = c.host.router;
    if (dest.type === 'queue') router.addQueueConsumer(dest, demand);
    else demand.topicSubscription = router.subscribeTopic(dest, demand, (m) => demand.accepts(m));
    // Other bridges of this broker see it as demand that came from the remote broker.
    c.host.advisories.consumerAdded({
      consumerId: demand.consumerId,
      connectionId: c.name,
      destination: dest,
      selector,
      priority,
      prefetchSize: o.prefetchSize,
      exclusive: false,
      noLocal: false,
      brokerPath: [this.remoteName, ...path],
    });
    return true;
  }

  private removeDemand(key: string): void {
    const demand = this.demands.get(key);
    if (!demand) return;
    this.demands.delete(key);
    const host = this.ctx.host;
    host.advisories.consumerRemoved(demand.consumerId);
    const unacked = demand.takeUnacknowledged();
    if (demand.topicSubscription) host.router.unsubscribeTopic(demand.topicSubscription, []);
    else host.router.removeQueueConsumer(demand.destination, demand, unacked);
  }

  hasLocalConsumers(m: BrokerMessage): boolean {
    return this.ctx.host.router.queues.get(m.destination.key)?.hasLocalConsumers ?? false;
  }

  forward(demand: DemandSubscription, message: BrokerMessage, source: Queue): void {
    if (this.pending.length === 0) process.nextTick(() => this.flush());
    this.pending.push({ demand, message, source });
  }

  /**
   * What was taken in one turn of the event loop leaves together: SEND
   * frames of up to BATCH_BYTES of messages each, a RECEIPT on the last
   * covering them all.
   */
  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 || !this.ctx.isUp()) return;
    const receipt = this.ctx.nextId('fwd');
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) {
      bytes += batch[i].message.size;
      const last = i === batch.length - 1;
      if (bytes < BATCH_BYTES && !last) continue;
      this.sendBatch(batch.slice(start, i + 1), last ? receipt : undefined);
      start = i + 1;
      bytes = 0;
    }
    this.outstanding.set(receipt, batch);
    this.ctx.watchdog.expect(receipt, 'forwarded messages', batch.length);
    this.ctx.stats.forwarded += batch.length;
  }

  private sendBatch(items: Outgoing[], receipt: string | undefined): void {
    const body = encodeBatch(items, this.ctx.local);
    const destination = escapeHeaderValue(stompName(items[0].message.destination));
    const receiptLine = receipt === undefined ? '' : `receipt:${receipt}\n`;
    this.ctx.session.sendRaw(withHeadAndBody(`SEND\ndestination:${destination}\n${BATCH_HEADER}:${items.length}\n${receiptLine}content-length:${body.length}\n\n`, body));
    this.ctx.stats.forwardedFrames++;
  }

  /** The remote broker stored a batch: it leaves this broker. */
  receipt(id: string): void {
    const done = this.outstanding.get(id);
    if (!done) return;
    this.outstanding.delete(id);
    const sources = new Set<Queue>();
    for (const { demand, message, source } of done) {
      demand.inflight.delete(message);
      source.acknowledge(message);
      sources.add(source);
    }
    this.ctx.stats.acknowledged += done.length;
    for (const q of sources) q.dispatch();
  }

  /** The link went down: demand ends, and what was forwarded and not acknowledged goes back to its queues. */
  stop(): void {
    for (const key of [...this.demands.keys()]) this.removeDemand(key);
    this.remoteConsumers.clear();
    this.pending = [];
    this.outstanding.clear();
  }

  get inFlight(): number {
    let n = 0;
    for (const d of this.demands.values()) n += d.inflight.size;
    return n;
  }

  describe(): Array<{ destination: string; consumers: number }> {
    return [...this.demands.values()].map((d) => ({ destination: stompName(d.destination), consumers: d.refs }));
  }
}

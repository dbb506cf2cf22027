/**
 * One network bridge: a STOMP connection from this broker to another, kept
 * up with ActiveMQ's reconnect back-off. Over it:
 *
 * - push (every bridge): the remote broker's consumer advisories say where
 *   its demand is; a DemandSubscription here takes those messages and the
 *   bridge SENDs them there, acknowledging them here only when the remote
 *   broker's RECEIPT says it stored them (store and forward);
 * - pull (duplex bridges): for this broker's own demand, the bridge
 *   subscribes on the remote broker as a network consumer, stores what it
 *   receives here, and only then ACKs it there.
 *
 * Health: heart-beats on the connection, and a progress watchdog: a forwarded
 * message or a request left unanswered for `progressTimeout` means the bridge
 * is stalled; it is torn down and connected again.
 */
import type { Broker } from '../broker/broker.js';
import type { ConsumerDescription } from '../broker/advisories.js';
import { type Destination, parseStompDestination, stompName } from '../broker/destination.js';
import { BrokerMessage } from '../broker/message.js';
import { BRIDGE_HEADER, type BridgeHello, BROKER_HEADER, type BrokerIdentity, decodeMeta, META_HEADER, NETWORK_CONSUMER_HEADER, type NetworkConsumerSpec, NetworkDuplicates } from '../broker/network-protocol.js';
import type { Queue } from '../broker/queue.js';
import { compileSelector } from '../broker/selector.js';
import type { BrokerAddress } from '../client/failover-uri.js';
import { type LinkFault, Session } from '../client/session.js';
import type { Logger } from '../config/logger.js';
import { createHeaders, type Frame, type Headers, withHeadAndBody } from '../stomp/index.js';
import { bridged, type NetworkOptions } from './connector-config.js';
import { DemandSubscription, type ForwardingBridge } from './demand.js';

export type BridgeState = 'connecting' | 'up' | 'backoff' | 'stopped';

/** Headers of a MESSAGE that are the broker's, not the sender's. */
const MESSAGE_HEADERS = new Set(['subscription', 'destination', 'ack', 'redelivered', 'JMSXDeliveryCount', 'content-length', META_HEADER]);

const ADVISORY_SUBSCRIPTION = 'advisories';
const BACKLOG_LIMIT = 1024 * 1024;

interface Pull {
  id: string;
  destination: Destination;
  /** The destination's STOMP name, which every message of a non-wildcard pull carries. */
  name: string;
  refs: number;
  /** Pulled messages in arrival order, until the cumulative ACK passes them. */
  received: Array<{ ackId: string; stored: boolean }>;
}

interface Outstanding {
  at: number;
  deliveries: Array<{ demand: DemandSubscription; message: BrokerMessage; source: Queue }>;
}

export interface BridgeStatus {
  name: string;
  connector: string;
  addresses: string[];
  remoteBrokerName: string | null;
  state: BridgeState;
  since: string;
  duplex: boolean;
  forwarded: number;
  acknowledged: number;
  inFlight: number;
  received: number;
  lastActivity: string | null;
  demand: { forwarding: Array<{ destination: string; consumers: number }>; pulling: Array<{ destination: string; consumers: number }> };
  reconnects: number;
  stalls: number;
  fault: LinkFault | null;
  lastError: string | null;
}

export class NetworkBridge implements ForwardingBridge {
  readonly name: string;
  private session: Session | null = null;
  private state: BridgeState = 'connecting';
  private since = Date.now();
  private upSince = 0;
  private remote: BrokerIdentity | null = null;
  private address: BrokerAddress | null = null;
  private nextAddress = 0;
  private attempts = 0;
  private delay: number;
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private stopWatching: (() => void) | null = null;
  private readonly demands = new Map<string, DemandSubscription>();
  private readonly remoteConsumers = new Map<string, string>();
  private readonly pulls = new Map<string, Pull>();
  private readonly pullsById = new Map<string, Pull>();
  private readonly localConsumers = new Map<string, string>();
  private pendingSends: Outstanding['deliveries'] = [];
  private readonly outstanding = new Map<string, Outstanding>();
  private readonly requests = new Map<string, { at: number; what: string }>();
  private pendingAcks = new Set<Pull>();
  private sequence = 0;
  private stopped = false;
  private readonly duplicates: NetworkDuplicates;
  private readonly stats = { forwarded: 0, acknowledged: 0, received: 0, reconnects: 0, stalls: 0, lastActivity: 0, lastError: null as string | null };
  private readonly logger: Logger;

  constructor(
    private readonly broker: Broker,
    readonly options: NetworkOptions,
    private readonly addresses: BrokerAddress[],
  ) {
    this.name = `${options.name}->${addresses.map((a) => `${a.host}:${a.port}`).join('|')}`;
    this.delay = options.initialReconnectDelay;
    this.logger = broker.logger.child({ bridge: this.name });
    this.duplicates = new NetworkDuplicates(broker.config.brokerName);
  }

  private get local(): string {
    return this.broker.config.brokerName;
  }

  get remoteName(): string {
    return this.remote?.brokerName ?? '';
  }

  get canForward(): boolean {
    return this.state === 'up' && this.session !== null && !(this.session.socket && this.session.socket.writableLength > BACKLOG_LIMIT);
  }

  start(): void {
    void this.connect();
  }

  // ---- connecting and reconnecting ----

  private setState(state: BridgeState): void {
    this.state = state;
    this.since = Date.now();
  }

  private async connect(): Promise<void> {
    this.setState('connecting');
    const hello: BridgeHello = { brokerName: this.local, brokerId: this.broker.brokerId, connector: this.options.name, duplex: this.options.duplex };
    let lastError: Error | null = null;
    for (let i = 0; i < this.addresses.length && !this.stopped; i++) {
      const address = this.addresses[(this.nextAddress + i) % this.addresses.length];
      this.logger.info({ remote: address.url }, `Establishing network connection from vm://${this.local} to ${address.url}`);
      try {
        const hb = this.options.bridgeHeartBeat;
        const session = await Session.open(address, {
          acceptVersion: '1.2',
          heartBeat: [hb, hb],
          heartBeatGrace: 2,
          connectTimeout: Math.max(2000, hb * 3),
          connectHeaders: { [BRIDGE_HEADER]: JSON.stringify(hello) },
        });
        if (this.stopped) {
          session.destroy();
          return;
        }
        this.nextAddress = (this.nextAddress + i) % this.addresses.length;
        this.up(session, address);
        return;
      } catch (err) {
        lastError = err as Error;
        this.logger.warn({ remote: address.url, err: lastError.message }, `Could not start network bridge between: vm://${this.local} and: ${address.url} due to: ${lastError.message}`);
      }
    }
    if (this.stopped) return;
    this.nextAddress = (this.nextAddress + 1) % this.addresses.length;
    this.stats.lastError = lastError?.message ?? null;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.attempts++;
    if (this.options.maxReconnectAttempts > 0 && this.attempts > this.options.maxReconnectAttempts) {
      this.logger.warn(`Reconnect attempts exceeded ${this.options.maxReconnectAttempts} tries. Reconnecting has been disabled for: ${this.name}`);
      this.setState('stopped');
      return;
    }
    const wait = this.delay;
    if (this.options.useExponentialBackOff) this.delay = Math.min(this.options.maxReconnectDelay, this.delay * this.options.backOffMultiplier);
    this.setState('backoff');
    this.timer = setTimeout(() => void this.connect(), wait);
  }

  private up(session: Session, address: BrokerAddress): void {
    let remote: BrokerIdentity;
    try {
      remote = JSON.parse(session.connectedHeaders[BROKER_HEADER] ?? '') as BrokerIdentity;
    } catch {
      session.destroy();
      this.logger.error({ remote: address.url }, `${address.url} is not an amq-sim broker (no ${BROKER_HEADER} in CONNECTED): network bridges need amq-sim at both ends`);
      this.stats.lastError = 'remote is not an amq-sim broker';
      this.scheduleReconnect();
      return;
    }
    if (remote.brokerName === this.local) {
      session.destroy();
      this.logger.error({ remote: address.url }, `${address.url} is this broker's own name (${this.local}): a network connector cannot point at its own broker or at one with the same brokerName`);
      this.stats.lastError = 'remote has the same brokerName';
      this.scheduleReconnect();
      return;
    }
    this.session = session;
    this.remote = remote;
    this.address = address;
    this.upSince = Date.now();
    this.stats.lastActivity = Date.now();
    this.setState('up');
    session.onFrame = (f) => this.onFrame(f);
    session.onClose = (err) => this.down(session, err);
    this.logger.info({ remote: remote.brokerName, address: address.url }, `Network connection between vm://${this.local} and ${address.url} (${remote.brokerName}) has been established.`);
    this.broker.advisories.bridgeStarted({ bridgeId: this.name, remoteBrokerName: remote.brokerName, remoteAddress: address.url, createdByDuplex: false, localBrokerName: this.local });
    this.request({ command: 'SUBSCRIBE', headers: createHeaders({ id: ADVISORY_SUBSCRIPTION, destination: '/topic/ActiveMQ.Advisory.Consumer.>', ack: 'auto' }), body: Buffer.alloc(0) }, 'consumer advisories');
    for (const d of this.options.staticallyIncludedDestinations) this.addDemand(`static:${d.key}`, d, [], undefined);
    if (this.options.duplex) {
      this.stopWatching = this.broker.advisories.watch({ added: (c) => this.localConsumerAdded(c), removed: (c) => this.localConsumerRemoved(c) });
    }
    if (this.options.progressTimeout > 0) this.watchdog = setInterval(() => this.checkProgress(), Math.min(1000, this.options.progressTimeout / 2));
  }

  private down(session: Session, err: Error): void {
    if (this.session !== session) return;
    this.session = null;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.stopWatching?.();
    this.stopWatching = null;
    const remote = this.remoteName;
    if (!this.stopped) {
      this.logger.warn({ remote, err: err.message }, `Network connection between vm://${this.local} and ${this.address?.url} (${remote}) shutdown due to a remote error: ${err.message}`);
      this.stats.lastError = err.message;
    }
    this.logger.info({ remote }, `${this.local} bridge to ${remote} stopped`);
    this.broker.advisories.bridgeStopped(this.name);
    for (const key of [...this.demands.keys()]) this.removeDemand(key);
    this.remoteConsumers.clear();
    this.pendingSends = [];
    this.outstanding.clear();
    this.requests.clear();
    this.pulls.clear();
    this.pullsById.clear();
    this.localConsumers.clear();
    this.pendingAcks.clear();
    if (this.stopped) return;
    this.stats.reconnects++;
    // ActiveMQ's minConnectTime: only a bridge that lived long enough starts its back-off over.
    if (Date.now() - this.upSince >= this.options.minConnectTime) {
      this.delay = this.options.initialReconnectDelay;
      this.attempts = 0;
    }
    this.scheduleReconnect();
  }

  // ---- frames from the remote broker ----

  private onFrame(f: Frame): void {
    this.stats.lastActivity = Date.now();
    switch (f.command) {
      case 'MESSAGE':
        if (f.headers.subscription === ADVISORY_SUBSCRIPTION) this.onAdvisory(f);
        else this.onPulled(f);
        return;
      case 'RECEIPT':
        this.onReceipt(f.headers['receipt-id']);
        return;
      case 'ERROR':
        this.logger.warn({ remote: this.remoteName, error: f.headers.message }, `The remote broker ${this.remoteName} refused a bridge frame: ${f.headers.message}`);
        return;
    }
  }

  private send(frame: Frame): void {
    this.session?.send(frame);
  }

  /** A frame whose RECEIPT the watchdog waits for. */
  private request(frame: Frame, what: string): void {
    const id = `req-${++this.sequence}`;
    frame.headers.receipt = id;
    this.requests.set(id, { at: Date.now(), what });
    this.send(frame);
  }

  private onReceipt(id: string): void {
    if (this.requests.delete(id)) return;
    const done = this.outstanding.get(id);
    if (!done) return;
    this.outstanding.delete(id);
    const sources = new Set<Queue>();
    for (const { demand, message, source } of done.deliveries) {
      demand.inflight.delete(message);
      source.acknowledge(message);
      sources.add(source);
    }
    this.stats.acknowledged += done.deliveries.length;
    for (const q of sources) q.dispatch();
  }

  private checkProgress(): void {
    const limit = Date.now() - this.options.progressTimeout;
    const oldestForward = this.outstanding.values().next().value;
    const oldestRequest = this.requests.values().next().value;
    let reason: string | null = null;
    if (oldestForward && oldestForward.at < limit) {
      let count = 0;
      for (const o of this.outstanding.values()) count += o.deliveries.length;
      reason = `${count} messages forwarded and not acknowledged for ${((Date.now() - oldestForward.at) / 1000).toFixed(1)} s`;
    } else if (oldestRequest && oldestRequest.at < limit) {
      reason = `${oldestRequest.what} unanswered for ${((Date.now() - oldestRequest.at) / 1000).toFixed(1)} s`;
    }
    if (!reason) return;
    this.stats.stalls++;
    this.logger.warn({ remote: this.remoteName, reason }, `Network bridge to ${this.remoteName} stalled: ${reason}; reconnecting`);
    this.session?.destroy(new Error(`bridge stalled: ${reason}`));
  }

  // ---- push: forward what the remote broker's consumers want ----

  private onAdvisory(f: Frame): void {
    let body: { ConsumerInfo?: { consumerId: string; destination: string; brokerPath?: string[]; selector?: string }; RemoveInfo?: { consumerId: string } };
    try {
      body = JSON.parse(f.body.toString('utf8'));
    } catch {
      return;
    }
    if (body.RemoveInfo) {
      const key = this.remoteConsumers.get(body.RemoveInfo.consumerId);
      if (key === undefined) return;
      this.remoteConsumers.delete(body.RemoveInfo.consumerId);
      const demand = this.demands.get(key);
      if (demand && --demand.refs <= 0) this.removeDemand(key);
      return;
    }
    const info = body.ConsumerInfo;
    if (!info) return;
    const path = info.brokerPath ?? [];
    // Demand that came through this broker, or has travelled consumerTTL hops, goes no further (ActiveMQ's consumer loop rules).
    if (path.includes(this.local) || path.length >= this.options.consumerTTL) return;
    let dest: Destination;
    try {
      dest = parseStompDestination(info.destination, { temporary: () => { throw new Error('temporary'); } });
    } catch {
      return;
    }
    if (!bridged(dest, this.options)) return;
    const conduit = this.options.conduitSubscriptions || dest.type === 'topic';
    const key = conduit ? dest.key : info.consumerId;
    this.remoteConsumers.set(info.consumerId, key);
    const existing = this.demands.get(key);
    if (existing) existing.refs++;
    else this.addDemand(key, dest, path, conduit ? undefined : info.selector);
  }

  private addDemand(key: string, dest: Destination, path: readonly string[], selector: string | undefined): void {
    const o = this.options;
    const priority = o.decreaseNetworkConsumerPriority ? o.consumerPriorityBase - path.length : 0;
    let filter: ((m: BrokerMessage) => boolean) | null = null;
    if (selector) {
      try {
        filter = compileSelector(selector);
      } catch {
        filter = null;
      }
    }
    const demand = new DemandSubscription(this.broker.ids.next('nc'), dest, priority, filter, this);
    demand.refs = 1;
    this.demands.set(key, demand);
    const router = this.broker.router;
    if (dest.type === 'queue') router.addQueueConsumer(dest, demand);
    else demand.topicSubscription = router.subscribeTopic(dest, demand, (m) => demand.accepts(m));
    // Other bridges of this broker see it as demand that came from the remote broker.
    this.broker.advisories.consumerAdded({
      consumerId: demand.consumerId,
      connectionId: this.name,
      destination: dest,
      selector,
      priority,
      prefetchSize: o.prefetchSize,
      exclusive: false,
      noLocal: false,
      brokerPath: [this.remoteName, ...path],
    });
  }

  private removeDemand(key: string): void {
    const demand = this.demands.get(key);
    if (!demand) return;
    this.demands.delete(key);
    this.broker.advisories.consumerRemoved(demand.consumerId);
    const unacked = demand.takeUnacknowledged();
    if (demand.topicSubscription) this.broker.router.unsubscribeTopic(demand.topicSubscription, []);
    else this.broker.router.removeQueueConsumer(demand.destination, demand, unacked);
  }

  hasLocalConsumers(m: BrokerMessage): boolean {
    return this.broker.router.queues.get(m.destination.key)?.hasLocalConsumers ?? false;
  }

  forward(demand: DemandSubscription, message: BrokerMessage, source: Queue): void {
    if (this.pendingSends.length === 0) process.nextTick(() => this.flushForwards());
    this.pendingSends.push({ demand, message, source });
  }

  /** The SENDs of one turn of the event loop leave together; a RECEIPT on the last covers them all. */
  private flushForwards(): void {
    const batch = this.pendingSends;
    this.pendingSends = [];
    const session = this.session;
    if (!session || batch.length === 0) return;
    const receipt = `fwd-${++this.sequence}`;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i].message;
      let head = `SEND\n${m.destinationLine(true)}${m.metaLine(this.local)}${m.userHead()}`;
      if (i === batch.length - 1) head += `receipt:${receipt}\n`;
      session.sendRaw(withHeadAndBody(`${head}content-length:${m.body.length}\n\n`, m.body));
    }
    this.outstanding.set(receipt, { at: Date.now(), deliveries: batch });
    this.stats.forwarded += batch.length;
  }

  // ---- pull (duplex): bring here what this broker's consumers want ----

  private localConsumerAdded(c: ConsumerDescription): void {
    const remote = this.remoteName;
    if (c.brokerPath.includes(remote) || c.brokerPath.length >= this.options.consumerTTL || !bridged(c.destination, this.options)) return;
    const conduit = this.options.conduitSubscriptions || c.destination.type === 'topic';
    const key = conduit ? c.destination.key : c.consumerId;
    this.localConsumers.set(c.consumerId, key);
    const existing = this.pulls.get(key);
    if (existing) {
      existing.refs++;
      return;
    }
    const o = this.options;
    const spec: NetworkConsumerSpec = {
      path: [this.local, ...c.brokerPath],
      messageTTL: o.messageTTL,
      priority: o.decreaseNetworkConsumerPriority ? o.consumerPriorityBase - c.brokerPath.length : 0,
      replayWhenNoConsumers: o.replayWhenNoConsumers,
      replayDelay: o.replayDelay,
    };
    const pull: Pull = { id: `pull-${++this.sequence}`, destination: c.destination, name: stompName(c.destination), refs: 1, received: [] };
    this.pulls.set(key, pull);
    this.pullsById.set(pull.id, pull);
    const headers = createHeaders({
      id: pull.id,
      destination: pull.name,
      ack: 'client',
      'activemq.prefetchSize': o.prefetchSize,
      [NETWORK_CONSUMER_HEADER]: JSON.stringify(spec),
    });
    if (!conduit && c.selector) headers.selector = c.selector;
    this.request({ command: 'SUBSCRIBE', headers, body: Buffer.alloc(0) }, `subscription to ${stompName(c.destination)}`);
  }

  private localConsumerRemoved(c: ConsumerDescription): void {
    const key = this.localConsumers.get(c.consumerId);
    if (key === undefined) return;
    this.localConsumers.delete(c.consumerId);
    const pull = this.pulls.get(key);
    if (!pull || --pull.refs > 0) return;
    this.pulls.delete(key);
    this.pullsById.delete(pull.id);
    this.pendingAcks.delete(pull);
    this.send({ command: 'UNSUBSCRIBE', headers: createHeaders({ id: pull.id }), body: Buffer.alloc(0) });
  }

  private onPulled(f: Frame): void {
    const pull = this.pullsById.get(f.headers.subscription);
    if (!pull) return;
    const h = f.headers;
    const entry = { ackId: h.ack, stored: false };
    pull.received.push(entry);
    this.stats.received++;
    const stored = () => {
      entry.stored = true;
      this.scheduleAck(pull);
    };
    const meta = decodeMeta(h[META_HEADER] ?? '');
    if (!meta) return stored();
    if (this.duplicates.isDuplicate(meta.id, meta.brokerPath)) return stored();
    let destination = pull.destination;
    if (h.destination !== pull.name) {
      try {
        destination = parseStompDestination(h.destination, { temporary: () => { throw new Error('temporary'); } });
      } catch {
        return stored();
      }
    }
    const headers: Headers = Object.create(null);
    for (const k in h) if (!MESSAGE_HEADERS.has(k)) headers[k] = h[k];
    const message = new BrokerMessage({
      id: meta.id,
      destination,
      headers,
      body: f.body,
      persistent: meta.persistent,
      priority: meta.priority,
      expiration: meta.expiration,
      timestamp: meta.timestamp,
      brokerPath: meta.brokerPath,
    });
    this.broker.router.send(message, (err) => {
      if (!err) stored();
    });
  }

  private scheduleAck(pull: Pull): void {
    if (this.pendingAcks.size === 0) process.nextTick(() => this.flushAcks());
    this.pendingAcks.add(pull);
  }

  /** One cumulative ACK per subscription for everything stored so far, in order. */
  private flushAcks(): void {
    for (const pull of this.pendingAcks) {
      let last = -1;
      while (last + 1 < pull.received.length && pull.received[last + 1].stored) last++;
      if (last < 0) continue;
      const ackId = pull.received[last].ackId;
      pull.received.splice(0, last + 1);
      this.send({ command: 'ACK', headers: createHeaders({ id: ackId }), body: Buffer.alloc(0) });
    }
    this.pendingAcks.clear();
  }

  // ---- faults, status, stop ----

  injectFault(kind: 'stall' | 'cut' | 'delay' | 'heal', ms = 0): string {
    const session = this.session;
    if (!session) return `${this.name}: not connected`;
    if (kind === 'cut') {
      session.destroy(new Error('connection cut on purpose (fault injection)'));
      return `${this.name}: cut`;
    }
    const fault: LinkFault | null = kind === 'stall' ? { kind: 'stall' } : kind === 'delay' ? { kind: 'delay', ms } : null;
    session.setFault(fault);
    this.logger.warn({ fault }, `Fault injected on bridge ${this.name}: ${kind}${kind === 'delay' ? ` ${ms} ms` : ''}`);
    return `${this.name}: ${kind}`;
  }

  status(): BridgeStatus {
    let inFlight = 0;
    for (const d of this.demands.values()) inFlight += d.inflight.size;
    return {
      name: this.name,
      connector: this.options.name,
      addresses: this.addresses.map((a) => a.url),
      remoteBrokerName: this.remote?.brokerName ?? null,
      state: this.state,
      since: new Date(this.since).toISOString(),
      duplex: this.options.duplex,
      forwarded: this.stats.forwarded,
      acknowledged: this.stats.acknowledged,
      inFlight,
      received: this.stats.received,
      lastActivity: this.stats.lastActivity ? new Date(this.stats.lastActivity).toISOString() : null,
      demand: {
        forwarding: [...this.demands.values()].map((d) => ({ destination: stompName(d.destination), consumers: d.refs })),
        pulling: [...this.pulls.values()].map((p) => ({ destination: stompName(p.destination), consumers: p.refs })),
      },
      reconnects: this.stats.reconnects,
      stalls: this.stats.stalls,
      fault: this.session?.currentFault ?? null,
      lastError: this.stats.lastError,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const session = this.session;
    if (session) {
      session.destroy(new Error('bridge stopped'));
    }
    this.setState('stopped');
  }
}

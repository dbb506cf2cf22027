import type { Logger } from '../config/logger.js';
import {
  createHeaders,
  encodeFrame,
  escapeHeaderValue,
  type Frame,
  FrameParser,
  HEART_BEAT,
  type HeartBeat,
  type Headers,
  parseHeartBeat,
  type ParserLimits,
  StompCodecError,
  type StompVersion,
  SUPPORTED_VERSIONS,
} from '../stomp/index.js';
import { type Destination, DestinationError, destination, parseStompDestination, parseStompDestinations, type StompNameResolver, stompName } from './destination.js';
import type { Advisories } from './advisories.js';
import type { IdGenerator } from './ids.js';
import { addToList } from './multimap.js';
import type { Queue } from './queue.js';
import { BrokerMessage, DEFAULT_PRIORITY } from './message.js';
import { DurableSubscriptionInUseError, type MessageRouter, type PendingAck } from './router.js';
import { type AckMode, StompSubscription } from './stomp-subscription.js';
import { BRIDGE_HEADER, type BridgeHello, BROKER_HEADER, decodeMeta, META_HEADER, NETWORK_CONSUMER_HEADER, type NetworkConsumerSpec, type NetworkDuplicates } from './network-protocol.js';
import { Transaction, type TransactedDelivery } from './transaction.js';
import { BACKLOG_HIGH_WATER, type Link } from './transport/link.js';

export interface ConnectionOptions {
  /** ActiveMQ `transport.hbGracePeriodMultiplier`: the read check runs every client-interval × this. */
  hbGracePeriodMultiplier: number;
  /** ActiveMQ `transport.defaultHeartBeat`: used when CONNECT has no heart-beat header. */
  defaultHeartBeat: HeartBeat;
  /** ActiveMQ `transport.connectAttemptTimeout`: a connection that has not sent CONNECT by then is closed. */
  connectAttemptTimeout: number;
  /** A frame that receives no byte for this long is abandoned: ERROR, then close. */
  partialFrameTimeout: number;
  limits: ParserLimits;
}

/** What a connection needs from its broker. */
export interface ConnectionContext {
  readonly brokerName: string;
  readonly brokerId: string;
  readonly server: string;
  readonly router: MessageRouter;
  readonly advisories: Advisories;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Selector compiler; throws with a message naming the position of a problem. */
  compileSelector(text: string): (m: BrokerMessage) => boolean;
  /** Registers a client id; returns an error text if another connection holds it. */
  claimClientId(clientId: string, connection: StompConnection): string | null;
  connectionClosed(connection: StompConnection): void;
  readonly networkDuplicates: NetworkDuplicates;
  /** A network bridge connected (this broker is its remote end). */
  bridgeOpened(connection: StompConnection, hello: BridgeHello): void;
  bridgeClosed(connection: StompConnection, hello: BridgeHello): void;
}

/** A client's mistake: ERROR with this message, then close. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** SEND headers the broker interprets itself; the rest travel with the message as sent. */
const CONTROL_HEADERS = new Set(['destination', 'receipt', 'transaction', 'content-length', 'persistent', 'priority', 'expires', 'message-id', 'timestamp', 'redelivered', 'subscription', 'ack', META_HEADER]);

type State = 'connecting' | 'connected' | 'closing' | 'closed';

/**
 * The STOMP protocol state machine for one client: turns frames into broker
 * operations and broker deliveries into frames.
 */
export class StompConnection implements StompNameResolver {
  readonly connectionId: string;
  version: StompVersion = '1.0';
  clientId: string | undefined;
  readonly connectedAt = Date.now();
  private state: State = 'connecting';
  private readonly parser: FrameParser;
  private readonly subscriptions = new Map<string, StompSubscription>();
  private readonly transactions = new Map<string, Transaction>();
  /** Subscriptions by their index, which 1.2 ack ids carry. */
  private readonly subscriptionsByIndex = new Map<number, StompSubscription>();
  private subscriptionSequence = 0;
  private readonly temporaries = new Map<string, { destination: Destination; created: string }>();
  /** Destinations this connection has sent to (for producer advisories). */
  private readonly producedTo = new Map<string, Destination>();
  private announced = false;
  /** Set when the other end is a broker's network bridge. */
  bridge: BridgeHello | null = null;
  private blocked = false;
  private readPaused = false;
  // Heart-beats
  private readTimer: NodeJS.Timeout | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  private readSinceCheck = false;
  private wroteSinceCheck = false;
  private connectTimer: NodeJS.Timeout | null;
  private partialFrameTimer: NodeJS.Timeout | null = null;
  private lastReadAt = Date.now();
  // Receipts wait for the store writes issued before them.
  private writesIssued = 0;
  private writesDone = 0;
  private readonly afterWrites: Array<{ after: number; run: () => void }> = [];
  // Last parsed SEND destination, since producers repeat theirs.
  private lastDestinationHeader = '';
  private lastDestinations: Destination[] = [];
  readonly stats = { messagesIn: 0, messagesOut: 0 };

  constructor(
    private readonly link: Link,
    private readonly ctx: ConnectionContext,
    private readonly options: ConnectionOptions,
  ) {
    this.connectionId = ctx.ids.next('c');
    this.parser = new FrameParser((frame) => this.onFrame(frame), options.limits);
    this.connectTimer = setTimeout(() => this.fail(new ProtocolError('Connection did not send CONNECT in time', `No CONNECT within ${options.connectAttemptTimeout} ms`)), options.connectAttemptTimeout);
    link.start({ data: (chunk) => this.onData(chunk), drain: () => this.onDrain(), closed: () => this.onClosed() });
  }

  get remoteAddress(): string {
    return this.link.remoteAddress;
  }

  get writable(): boolean {
    return !this.blocked;
  }

  get bridgeBroker(): string | null {
    return this.bridge?.brokerName ?? null;
  }

  hasLocalConsumers(m: BrokerMessage): boolean {
    return this.ctx.router.queues.get(m.destination.key)?.hasLocalConsumers ?? false;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.readSinceCheck = true;
    this.lastReadAt = Date.now();
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.watchPartialFrame();
    this.applyFlowControl();
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    try {
      this.handle(frame);
    } catch (err) {
      this.fail(err, frame.headers.receipt);
    }
  }

  private handle(frame: Frame): void {
    const command = frame.command;
    if (this.state === 'connecting') {
      if (command === 'CONNECT' || command === 'STOMP') return this.onConnect(frame);
      throw new ProtocolError('Not connected.', `Received ${command} before CONNECT`);
    }
    switch (command) {
      case 'SEND':
        return this.onSend(frame);
      case 'SUBSCRIBE':
        return this.onSubscribe(frame);
      case 'UNSUBSCRIBE':
        return this.onUnsubscribe(frame);
      case 'ACK':
        return this.onAck(frame, false);
      case 'NACK':
        if (this.version === '1.0') throw new ProtocolError('NACK received but connection is in v1.0 mode.');
        return this.onAck(frame, true);
      case 'BEGIN':
        return this.onBegin(frame);
      case 'COMMIT':
        return this.onCommit(frame);
      case 'ABORT':
        return this.onAbort(frame);
      case 'DISCONNECT':
        return this.onDisconnect(frame);
      case 'CONNECT':
      case 'STOMP':
        throw new ProtocolError('Already connected.');
      default:
        throw new ProtocolError(`Unknown STOMP action: ${command}`);
    }
  }

  // ---- CONNECT ----

  private onConnect(frame: Frame): void {
    const h = frame.headers;
    const accepted = h['accept-version'];
    let version: StompVersion = '1.0';
    if (accepted !== undefined) {
      const offered = accepted.split(',').map((v) => v.trim());
      const common = SUPPORTED_VERSIONS.filter((v) => offered.includes(v));
      if (common.length === 0) {
        throw new ProtocolError(`Invalid Protocol version[${accepted}], supported versions are: [${SUPPORTED_VERSIONS.join(', ')}]`);
      }
      version = common[common.length - 1];
    }
    let heartBeat: HeartBeat = { send: 0, receive: 0 };
    if (version !== '1.0') {
      const parsed = parseHeartBeat(h['heart-beat'], this.options.defaultHeartBeat);
      if (!parsed) throw new ProtocolError(`Invalid heart-beat header: ${h['heart-beat']}`);
      heartBeat = parsed;
    }
    const hello = h[BRIDGE_HEADER];
    if (hello !== undefined) this.bridge = parseJsonHeader<BridgeHello>(BRIDGE_HEADER, hello);
    const clientId = h['client-id'];
    if (clientId !== undefined && clientId !== '') {
      const refusal = this.ctx.claimClientId(clientId, this);
      if (refusal) throw new ProtocolError(refusal);
      this.clientId = clientId;
    }
    this.version = version;
    this.parser.version = version;
    this.state = 'connected';
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    // As ActiveMQ: read with the client's send interval, write at its receive interval, and say so.
    const replyHeaders: Record<string, string> = {
      version,
      session: this.clientId ?? this.connectionId,
      server: this.ctx.server,
      'heart-beat': `${heartBeat.receive},${heartBeat.send}`,
    };
    if (this.bridge) replyHeaders[BROKER_HEADER] = JSON.stringify({ brokerName: this.ctx.brokerName, brokerId: this.ctx.brokerId });
    this.writeFrame({ command: 'CONNECTED', headers: createHeaders(replyHeaders), body: Buffer.alloc(0) }, false);
    this.startHeartBeats(heartBeat);
    this.ctx.advisories.connectionAdded({ connectionId: this.connectionId, clientId: this.clientId, remoteAddress: this.remoteAddress });
    this.announced = true;
    if (this.bridge) this.ctx.bridgeOpened(this, this.bridge);
    this.ctx.logger.debug({ connection: this.connectionId, remote: this.remoteAddress, version, clientId: this.clientId }, 'STOMP connection established');
  }

  private startHeartBeats(hb: HeartBeat): void {
    if (hb.send > 0) {
      const checkEvery = Math.max(1, Math.floor(hb.send * Math.max(1, this.options.hbGracePeriodMultiplier)));
      this.readSinceCheck = false;
      this.readTimer = setInterval(() => {
        if (this.readSinceCheck || this.parser.midFrame) {
          this.readSinceCheck = false;
          return;
        }
        this.ctx.logger.info({ connection: this.connectionId, remote: this.remoteAddress }, `Channel was inactive for too (>${checkEvery}) long: ${this.remoteAddress}`);
        this.close();
      }, checkEvery);
    }
    if (hb.receive > 0) {
      // Ticking at half the interval keeps every gap the client sees under its interval.
      this.writeTimer = setInterval(() => {
        if (!this.wroteSinceCheck) this.link.write(HEART_BEAT);
        this.wroteSinceCheck = false;
      }, Math.max(1, Math.floor(hb.receive / 2)));
    }
  }

  private watchPartialFrame(): void {
    if (!this.parser.midFrame || this.partialFrameTimer) return;
    const check = (): void => {
      this.partialFrameTimer = null;
      if (!this.parser.midFrame || this.state === 'closed') return;
      // While flow control holds the socket, the missing bytes are ours to read, not the client's to send.
      if (this.readPaused) this.lastReadAt = Date.now();
      const idle = Date.now() - this.lastReadAt;
      if (idle >= this.options.partialFrameTimeout) {
        this.fail(new ProtocolError('Incomplete frame', `A frame was started and no byte of it arrived for ${this.options.partialFrameTimeout} ms`));
        return;
      }
      this.partialFrameTimer = setTimeout(check, this.options.partialFrameTimeout - idle);
    };
    this.partialFrameTimer = setTimeout(check, this.options.partialFrameTimeout);
  }

  // ---- SEND ----

  private onSend(frame: Frame): void {
    const h = frame.headers;
    const destHeader = h.destination;
    if (destHeader === undefined || destHeader === '') throw new ProtocolError('SEND received without a Destination specified!');
    const destinations = this.resolveSendDestinations(destHeader);
    const tx = this.transactionFor(h.transaction);
    const userHeaders: Headers = Object.create(null);
    for (const k in h) if (!CONTROL_HEADERS.has(k)) userHeaders[k] = h[k];
    const replyTo = userHeaders['reply-to'];
    if (replyTo !== undefined && replyTo.startsWith('/temp-')) {
      try {
        userHeaders['reply-to'] = stompName(parseStompDestination(replyTo, this));
      } catch {
        /* an odd reply-to travels as it was sent */
      }
    }
    let persistent = h.persistent === 'true';
    let priority = parsePriority(h.priority);
    let expiration = parseExpiration(h.expires);
    let id: string;
    let timestamp = Date.now();
    let brokerPath: readonly string[] | undefined;
    const meta = this.bridge && h[META_HEADER] !== undefined ? decodeMeta(h[META_HEADER]) : null;
    if (meta) {
      // A message forwarded by another broker keeps its id, time and path.
      ({ id, persistent, priority, expiration, timestamp, brokerPath } = meta);
      if (this.ctx.networkDuplicates.isDuplicate(id, brokerPath)) {
        this.receipt(h.receipt);
        return;
      }
    } else id = this.ctx.ids.next('m');
    this.stats.messagesIn++;
    for (const dest of destinations) {
      if (dest.temporary && !this.ctx.router.temporaries.has(dest.key)) throw new ProtocolError(`Cannot publish to a deleted Destination: ${stompName(dest)}`);
      const message = new BrokerMessage({ id, destination: dest, headers: userHeaders, body: frame.body, persistent, priority, expiration, timestamp, producerId: this.connectionId, brokerPath });
      if (tx) {
        message.compact();
        tx.sends.push(message);
      }
      else if (persistent) this.ctx.router.send(message, this.trackWrite());
      else this.ctx.router.send(message);
    }
    this.receipt(h.receipt);
  }

  private resolveSendDestinations(header: string): Destination[] {
    if (header === this.lastDestinationHeader) return this.lastDestinations;
    let dests: Destination[];
    try {
      dests = parseStompDestinations(header, this);
    } catch (err) {
      if (err instanceof DestinationError) throw new ProtocolError(err.message);
      throw err;
    }
    this.lastDestinationHeader = header;
    this.lastDestinations = dests;
    for (const dest of dests) {
      if (this.producedTo.has(dest.key)) continue;
      this.producedTo.set(dest.key, dest);
      this.ctx.advisories.producerAdded(dest, this.connectionId);
    }
    return dests;
  }

  /** The connection's own temporary destination for `/temp-queue/NAME` or `/temp-topic/NAME`. */
  temporary(type: 'queue' | 'topic', name: string): Destination {
    const created = `/temp-${type}/${name}`;
    let t = this.temporaries.get(created);
    if (!t) {
      t = { destination: destination(type, `${this.connectionId}:${name}`, true), created };
      this.temporaries.set(created, t);
      this.ctx.router.temporaries.set(t.destination.key, this.connectionId);
    }
    return t.destination;
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  private onSubscribe(frame: Frame): void {
    const h = frame.headers;
    const destHeader = h.destination;
    if (!destHeader) throw new ProtocolError('SUBSCRIBE received without a Destination specified!');
    let id = h.id;
    if (id === undefined) {
      if (this.version !== '1.0') throw new ProtocolError('SUBSCRIBE received without a subscription id!');
      id = destHeader;
    }
    if (this.subscriptions.has(id)) throw new ProtocolError(`Duplicate subscription id: ${id}`);
    let dest: Destination;
    try {
      dest = parseStompDestination(destHeader, this);
    } catch (err) {
      if (err instanceof DestinationError) throw new ProtocolError(err.message);
      throw err;
    }
    if (dest.temporary && this.ctx.router.temporaries.get(dest.key) !== this.connectionId) {
      throw new ProtocolError(`Cannot subscribe to a temporary destination of another connection: ${destHeader}`);
    }
    const ackMode = (h.ack ?? 'auto') as AckMode;
    if (ackMode !== 'auto' && ackMode !== 'client' && ackMode !== 'client-individual') {
      throw new ProtocolError(`Invalid ack mode: ${h.ack} (expected auto, client or client-individual)`);
    }
    const durableName = h['activemq.subscriptionName'];
    if (durableName !== undefined && dest.type === 'queue') throw new ProtocolError('cannot durably subscribe to a Queue destination!');
    if (durableName !== undefined && !this.clientId) throw new ProtocolError('A durable subscription needs a client-id on CONNECT');
    const policy = this.ctx.router.policy;
    const defaultPrefetch = dest.type === 'queue' ? policy.queuePrefetch : durableName !== undefined ? policy.durableTopicPrefetch : policy.topicPrefetch;
    const prefetch = parseIntHeader(h, 'activemq.prefetchSize', defaultPrefetch, 1);
    const networkHeader = h[NETWORK_CONSUMER_HEADER];
    const network = this.bridge && networkHeader !== undefined ? parseJsonHeader<NetworkConsumerSpec>(NETWORK_CONSUMER_HEADER, networkHeader) : undefined;
    const selectorText = h.selector;
    let selector: ((m: BrokerMessage) => boolean) | null = null;
    if (selectorText !== undefined && selectorText.trim() !== '') {
      try {
        selector = this.ctx.compileSelector(selectorText);
      } catch (err) {
        throw new ProtocolError(`Invalid selector: ${(err as Error).message}`);
      }
    }
    const sub = new StompSubscription(
      this.ctx.ids.next('s'),
      {
        id,
        destination: dest,
        ackMode,
        prefetch,
        priority: network ? network.priority : parseIntHeader(h, 'activemq.priority', 0, -127),
        exclusive: h['activemq.exclusive'] === 'true',
        noLocal: h['activemq.noLocal'] === 'true',
        selector,
        selectorText,
        durableName,
        network,
      },
      this,
      ++this.subscriptionSequence,
      this.version === '1.2',
    );
    this.subscriptions.set(id, sub);
    this.subscriptionsByIndex.set(sub.index, sub);
    const router = this.ctx.router;
    try {
      if (dest.type === 'queue') {
        router.addQueueConsumer(dest, sub);
      } else if (durableName !== undefined) {
        sub.topicSubscription = router.subscribeDurable(dest, sub, { clientId: this.clientId!, subscriptionName: durableName, selector: selectorText, noLocal: sub.settings.noLocal }, (m) => sub.matches(m));
      } else {
        sub.topicSubscription = router.subscribeTopic(dest, sub, (m) => sub.matches(m));
        if (h['activemq.retroactive'] === 'true') {
          for (const m of router.recentMessages(dest)) if (sub.matches(m)) sub.topicSubscription.queue.offer(m);
        }
        this.ctx.advisories.replay(sub.topicSubscription);
      }
    } catch (err) {
      this.subscriptions.delete(id);
      this.subscriptionsByIndex.delete(sub.index);
      if (err instanceof DurableSubscriptionInUseError) throw new ProtocolError(err.message);
      throw err;
    }
    this.ctx.advisories.consumerAdded({
      consumerId: sub.consumerId,
      connectionId: this.connectionId,
      clientId: this.clientId,
      destination: dest,
      selector: selectorText,
      priority: sub.priority,
      prefetchSize: prefetch,
      exclusive: sub.exclusive,
      noLocal: sub.settings.noLocal,
      subscriptionName: durableName,
      brokerPath: network?.path ?? [],
    });
    this.receipt(h.receipt);
  }

  private onUnsubscribe(frame: Frame): void {
    const h = frame.headers;
    const durableName = h['activemq.subscriptionName'];
    const id = h.id ?? (this.version === '1.0' ? h.destination : undefined);
    if (id === undefined && durableName === undefined) throw new ProtocolError('UNSUBSCRIBE received without a subscription id!');
    const sub = id !== undefined ? this.subscriptions.get(id) : undefined;
    if (sub) this.closeSubscription(sub);
    else if (durableName === undefined) throw new ProtocolError(`No subscription matched: ${id}`);
    if (durableName !== undefined) {
      if (!this.clientId) throw new ProtocolError('Removing a durable subscription needs a client-id on CONNECT');
      try {
        this.ctx.router.removeDurable(this.clientId, durableName);
      } catch (err) {
        if (err instanceof DurableSubscriptionInUseError) throw new ProtocolError(err.message);
        throw err;
      }
    }
    this.receipt(h.receipt);
  }

  private closeSubscription(sub: StompSubscription): void {
    sub.closed = true;
    this.subscriptions.delete(sub.id);
    this.subscriptionsByIndex.delete(sub.index);
    this.ctx.advisories.consumerRemoved(sub.consumerId);
    const unacked = sub.takeUnacknowledged();
    if (sub.topicSubscription) {
      this.ctx.router.unsubscribeTopic(sub.topicSubscription, [...unacked.values()].flat());
    } else {
      this.ctx.router.removeQueueConsumer(sub.settings.destination, sub, unacked);
    }
  }

  // ---- ACK / NACK ----

  private onAck(frame: Frame, negative: boolean): void {
    const h = frame.headers;
    const command = negative ? 'NACK' : 'ACK';
    let sub: StompSubscription | undefined;
    let key: string | undefined;
    if (this.version === '1.2') {
      key = h.id;
      if (key === undefined) throw new ProtocolError(`${command} received without a ack id to acknowledge!`);
      sub = this.subscriptionsByIndex.get(Number.parseInt(key, 10));
    } else {
      key = h['message-id'];
      if (key === undefined) throw new ProtocolError(`${command} received without a message-id to acknowledge!`);
      const subId = h.subscription;
      if (subId !== undefined) sub = this.subscriptions.get(subId);
      else for (const s of this.subscriptions.values()) if (s.inflight.has(key)) sub = s;
    }
    // NACK rejects one message, even in client mode.
    const deliveries = !sub ? [] : negative ? sub.takeOne(key) : sub.takeAcknowledged(key);
    if (!sub || deliveries.length === 0) throw new ProtocolError(`Unexpected ${command} received for message-id [${key}]`);
    const tx = this.transactionFor(h.transaction);
    // With a receipt, the receipt waits until the removal is durable.
    const track = h.receipt !== undefined && !tx;
    let last: Queue | null = null;
    for (const d of deliveries) {
      if (tx) (negative ? tx.nacks : tx.acks).push({ ...d, subscription: sub });
      else if (negative) this.rejectDelivery(d, track ? this.trackWrite() : undefined);
      else d.source.acknowledge(d.message, false, track ? this.trackWrite() : undefined);
    }
    // The prefetch window moved, transacted or not (as ActiveMQ's delivered ack).
    for (const d of deliveries) {
      if (d.source === last) continue;
      last = d.source;
      d.source.dispatch();
    }
    this.receipt(h.receipt);
  }

  /** NACK: ActiveMQ treats it as a poison ack and dead-letters the message at once (policy `nackToDeadLetter`). */
  private rejectDelivery(d: PendingAck, done?: (err?: Error) => void): void {
    if (this.ctx.router.policy.nackToDeadLetter) d.source.deadLetter(d.message, 'Poison ack: the client sent NACK', done);
    else {
      d.source.redeliver([d.message]);
      done?.();
    }
  }

  // ---- transactions ----

  private transactionFor(txId: string | undefined): Transaction | null {
    if (txId === undefined) return null;
    const tx = this.transactions.get(txId);
    if (!tx) throw new ProtocolError(`Invalid transaction id: ${txId}`);
    return tx;
  }

  private onBegin(frame: Frame): void {
    const txId = frame.headers.transaction;
    if (txId === undefined || txId === '') throw new ProtocolError('Must specify the transaction you are beginning');
    if (this.transactions.has(txId)) throw new ProtocolError(`The transaction was already started: ${txId}`);
    this.transactions.set(txId, new Transaction(`${this.connectionId}:${txId}`));
    this.receipt(frame.headers.receipt);
  }

  private onCommit(frame: Frame): void {
    const tx = this.takeTransaction(frame.headers.transaction, 'COMMIT');
    const receipt = frame.headers.receipt;
    this.ctx.router.commit(tx.id, tx.sends, tx.acks, this.trackWrite());
    for (const n of tx.nacks) this.rejectDelivery(n);
    this.receipt(receipt);
  }

  private onAbort(frame: Frame): void {
    const tx = this.takeTransaction(frame.headers.transaction, 'ABORT');
    this.rollback(tx);
    this.receipt(frame.headers.receipt);
  }

  private takeTransaction(txId: string | undefined, command: string): Transaction {
    if (txId === undefined) throw new ProtocolError(`Must specify the transaction you are ${command === 'COMMIT' ? 'committing' : 'aborting'}`);
    const tx = this.transactionFor(txId)!;
    this.transactions.delete(txId);
    return tx;
  }

  /**
   * Sends are dropped. Acks are undone: as in ActiveMQ the messages stay
   * delivered and unacknowledged (the client may ack them again), or go back to
   * their queue if their subscription has gone.
   */
  private rollback(tx: Transaction): void {
    const bySubscription = new Map<StompSubscription, TransactedDelivery[]>();
    const orphans = new Map<Queue, TransactedDelivery[]>();
    for (const entry of [...tx.acks, ...tx.nacks]) {
      if (entry.subscription.closed) {
        addToList(orphans, entry.source, entry);
        continue;
      }
      addToList(bySubscription, entry.subscription, entry);
    }
    for (const [sub, returned] of bySubscription) sub.restore(returned);
    for (const [source, returned] of orphans) source.redeliver(returned.sort((a, b) => a.seq - b.seq).map((d) => d.message));
  }

  // ---- DISCONNECT and close ----

  private onDisconnect(frame: Frame): void {
    const receipt = frame.headers.receipt;
    this.state = 'closing';
    this.release();
    if (receipt !== undefined) {
      this.whenWritten(() => {
        this.writeFrame({ command: 'RECEIPT', headers: createHeaders({ 'receipt-id': receipt }), body: Buffer.alloc(0) });
        this.link.end();
      });
    } else {
      this.link.end();
    }
  }

  /** Closes without a word (heart-beat timeout, broker shutdown). */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    this.release();
    this.link.end();
  }

  /** Tells the client what went wrong in an ERROR frame, then closes. */
  private fail(err: unknown, receiptId?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    let message: string;
    let detail: string;
    if (err instanceof ProtocolError) {
      message = err.message;
      detail = err.detail ?? err.message;
    } else if (err instanceof StompCodecError) {
      message = err.message;
      detail = `${err.code}: ${err.message}`;
    } else {
      this.ctx.logger.error({ err, connection: this.connectionId }, 'Internal error while handling a frame');
      message = 'Internal broker error';
      detail = err instanceof Error ? err.message : String(err);
    }
    this.ctx.logger.warn({ connection: this.connectionId, remote: this.remoteAddress, reason: message }, `Transport Connection to: ${this.remoteAddress} failed: ${message}`);
    const headers: Record<string, string> = { message, 'content-type': 'text/plain' };
    if (receiptId !== undefined) headers['receipt-id'] = receiptId;
    this.writeFrame({ command: 'ERROR', headers: createHeaders(headers), body: Buffer.from(detail + '\n') });
    this.state = 'closing';
    this.release();
    this.link.end();
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'closing') this.release();
    this.state = 'closed';
  }

  /** Gives back everything the connection held: transactions, subscriptions, temporary destinations, timers. */
  private release(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.readTimer) clearInterval(this.readTimer);
    if (this.writeTimer) clearInterval(this.writeTimer);
    if (this.partialFrameTimer) clearTimeout(this.partialFrameTimer);
    this.connectTimer = this.readTimer = this.writeTimer = this.partialFrameTimer = null;
    if (this.readPaused) this.link.resumeReading();
    for (const tx of this.transactions.values()) this.rollback(tx);
    this.transactions.clear();
    for (const sub of [...this.subscriptions.values()]) this.closeSubscription(sub);
    for (const { destination: dest } of this.temporaries.values()) {
      this.ctx.router.temporaries.delete(dest.key);
      this.ctx.router.removeDestination(dest);
    }
    this.temporaries.clear();
    for (const dest of this.producedTo.values()) this.ctx.advisories.producerRemoved(dest, this.connectionId);
    this.producedTo.clear();
    if (this.announced) {
      this.ctx.advisories.connectionRemoved(this.connectionId);
      if (this.bridge) this.ctx.bridgeClosed(this, this.bridge);
    }
    this.ctx.connectionClosed(this);
  }

  // ---- output ----

  sendMessage(sub: StompSubscription, m: BrokerMessage, ackId: string): void {
    const escape = this.version !== '1.0';
    let head = `MESSAGE\n${sub.headerLine(escape)}${this.destinationLine(m, escape)}`;
    if (ackId !== '') head += `ack:${ackId}\n`;
    if (m.redeliveryCounter > 0) head += `redelivered:true\nJMSXDeliveryCount:${m.redeliveryCounter + 1}\n`;
    // A network subscription gets the bridge's compact form of the standard headers.
    if (sub.isNetwork) head += `${m.metaLine(this.ctx.brokerName)}${m.userHead()}content-length:${m.body.length}\n\n`;
    else head += `${m.head(escape)}content-length:${m.body.length}\n\n`;
    this.stats.messagesOut++;
    this.wroteSinceCheck = true;
    this.link.writeFrame(head, m.body);
    if (!this.blocked && this.link.backlog > BACKLOG_HIGH_WATER) this.blocked = true;
  }

  /** The destination header line; a connection's own temporary destinations keep the name it created them with. */
  private destinationLine(m: BrokerMessage, escape: boolean): string {
    if (m.destination.temporary) {
      for (const t of this.temporaries.values()) {
        if (t.destination.key === m.destination.key) return `destination:${escape ? escapeHeaderValue(t.created) : t.created}\n`;
      }
    }
    return m.destinationLine(escape);
  }

  private writeFrame(frame: Frame, contentLength = true): void {
    this.write(encodeFrame(frame, this.version, { contentLength }));
  }

  private write(data: Buffer): void {
    this.wroteSinceCheck = true;
    this.link.write(data);
    if (!this.blocked && this.link.backlog > BACKLOG_HIGH_WATER) this.blocked = true;
  }

  private onDrain(): void {
    if (!this.blocked) return;
    this.blocked = false;
    for (const sub of this.subscriptions.values()) {
      if (sub.topicSubscription) sub.topicSubscription.queue.dispatch();
      else this.ctx.router.redispatch(sub.settings.destination, sub);
    }
  }

  /** Producer flow control: stop reading while the broker's memory limit is exceeded. */
  private applyFlowControl(): void {
    if (this.readPaused || !this.ctx.router.memoryFull()) return;
    this.readPaused = true;
    this.link.pauseReading();
    this.ctx.router.whenMemoryAvailable(() => {
      if (!this.readPaused) return;
      this.readPaused = false;
      this.link.resumeReading();
    });
  }

  // ---- receipts ----

  private trackWrite(): (err?: Error) => void {
    const seq = ++this.writesIssued;
    return (err) => {
      if (err) {
        this.fail(new ProtocolError('Could not store the message', err.message));
        return;
      }
      if (seq > this.writesDone) this.writesDone = seq;
      while (this.afterWrites.length > 0 && this.afterWrites[0].after <= this.writesDone) this.afterWrites.shift()!.run();
    };
  }

  /** Runs `run` once every store write this connection issued so far is durable. */
  private whenWritten(run: () => void): void {
    if (this.afterWrites.length === 0 && this.writesDone === this.writesIssued) run();
    else this.afterWrites.push({ after: this.writesIssued, run });
  }

  private receipt(receiptId: string | undefined): void {
    if (receiptId === undefined) return;
    this.whenWritten(() => {
      if (this.state === 'closed') return;
      this.writeFrame({ command: 'RECEIPT', headers: createHeaders({ 'receipt-id': receiptId }), body: Buffer.alloc(0) });
    });
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.connectionId,
      remoteAddress: this.remoteAddress,
      clientId: this.clientId,
      version: this.version,
      subscriptions: this.subscriptions.size,
      messagesIn: this.stats.messagesIn,
      messagesOut: this.stats.messagesOut,
      connectedAt: new Date(this.connectedAt).toISOString(),
    };
  }
}

function parseJsonHeader<T>(name: string, value: string): T {
  try {
    return JSON.parse(value) as T;
  } catch {
    throw new ProtocolError(`Invalid ${name} header: not JSON`);
  }
}

function parsePriority(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PRIORITY;
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n)) throw new ProtocolError(`Invalid priority header: ${value}`);
  return Math.min(9, Math.max(0, n));
}

function parseExpiration(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new ProtocolError(`Invalid expires header: ${value}`);
  return Math.floor(n);
}

function parseIntHeader(h: Headers, name: string, fallback: number, min: number): number {
  const value = h[name];
  if (value === undefined) return fallback;
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n) || n < min) throw new ProtocolError(`Invalid ${name} header: ${value}`);
  return n;
}

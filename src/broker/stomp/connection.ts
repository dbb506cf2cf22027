/**
 * The STOMP protocol state machine for one client: bytes in through its Link,
 * frames to the handler for their command (./handlers), broker deliveries out
 * as MESSAGE frames (./message-frame). It knows nothing of sockets, and of
 * other brokers only what a registered PeerProtocol tells it.
 */
import type { Logger } from '../../config/logger.js';
import { type AmqSimError, ProtocolError, protocolError } from '../../errors.js';
import { createHeaders, encodeFrame, escapeHeaderValue, type Frame, FrameParser, HEART_BEAT, type HeartBeat, type ParserLimits, type StompVersion } from '../../stomp/index.js';
import { HeartBeats } from '../../transport/heart-beat.js';
import { BACKLOG_HIGH_WATER, type Link } from '../../transport/link.js';
import type { Advisories } from '../advisories.js';
import { type Destination, destination, type StompNameResolver, stompName } from '../core/destination.js';
import type { IdGenerator } from '../core/ids.js';
import type { BrokerMessage } from '../core/message.js';
import type { MessageRouter } from '../core/router.js';
import { handleAck } from './handlers/ack.js';
import { handleConnect } from './handlers/connect.js';
import { handleSend } from './handlers/send.js';
import { closeSubscription, handleSubscribe, handleUnsubscribe } from './handlers/subscribe.js';
import { handleAbort, handleBegin, handleCommit, rollback } from './handlers/transaction.js';
import { destinationLine, messageFrameHead } from './message-frame.js';
import type { PeerConsumer, PeerDelivery, PeerProtocol, PeerSession } from './peer.js';
import type { Security } from '../../security/security.js';
import type { Subject } from '../../security/users.js';
import { isWildcard } from '../core/wildcard.js';
import type { QueueBrowser } from './browser.js';
import type { FrameBuffers } from './frame-buffers.js';
import { type GateSettings, SendGate } from './send-gate.js';
import { looksLikeOpenWire } from './openwire.js';
import type { StompSubscription } from './subscription.js';
import type { Transaction } from './transaction.js';

export interface ConnectionOptions {
  /** ActiveMQ `transport.hbGracePeriodMultiplier`: the read-check period is the client's interval × this. */
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
  readonly server: string;
  readonly router: MessageRouter;
  readonly advisories: Advisories;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Selector compiler; throws with a message naming the position of a problem. */
  compileSelector(text: string): (m: BrokerMessage) => boolean;
  /** Registers a client id; throws ProtocolError if another connection holds it. */
  claimClientId(clientId: string, connection: StompConnection): void;
  connectionClosed(connection: StompConnection): void;
  /** Kinds of peers (network bridges) that extensions taught the broker. */
  readonly peerProtocols: readonly PeerProtocol[];
  /** The headers of the peer protocols: never stored with a message, whoever sends them. */
  readonly reservedHeaders: ReadonlySet<string>;
  /** Authentication, authorization, who may be a bridge. */
  readonly security: Security;
  /** Producer flow control's settings (ActiveMQ's systemUsage sendFailIfNoSpace…). */
  readonly flowControl: GateSettings;
  /** Bytes of incomplete frames, all connections together, and their cap. */
  readonly frameBuffers: FrameBuffers;
}

type State = 'connecting' | 'connected' | 'closing' | 'closed';

/** The ERROR frame's header with the catalogue code. */
export const ERROR_CODE_HEADER = 'error-code';

export class StompConnection implements StompNameResolver {
  readonly connectionId: string;
  readonly connectedAt = Date.now();
  readonly stats = { messagesIn: 0, messagesOut: 0 };

  // Session state, shared with the frame handlers in ./handlers.
  version: StompVersion = '1.0';
  state: State = 'connecting';
  clientId: string | undefined;
  /** Who the client authenticated as (at CONNECT). */
  subject: Subject = { user: '', groups: new Set() };
  readonly parser: FrameParser;
  readonly subscriptions = new Map<string, StompSubscription>();
  /** Queue browsers (SUBSCRIBE with browser:true), by subscription id. */
  readonly browsers = new Map<string, QueueBrowser>();
  /** Subscriptions by their index, which 1.2 ack ids carry. */
  readonly subscriptionsByIndex = new Map<number, StompSubscription>();
  subscriptionSequence = 0;
  readonly transactions = new Map<string, Transaction>();
  readonly temporaries = new Map<string, { destination: Destination; created: string }>();
  /** Destinations this connection has sent to (for producer advisories). */
  readonly producedTo = new Map<string, Destination>();
  /** Set when the other end is a peer (another broker's bridge). */
  peer: PeerSession | null = null;
  /** Deliveries to peers' consumers gathered in this turn of the event loop. */
  private readonly peerBatches = new Map<StompSubscription, { deliveries: PeerDelivery[]; bytes: number }>();
  announced = false;
  lastSendDestinations: { header: string; destinations: Destination[] } | null = null;
  /** Frames that arrived while the connection waits (waitFor), or null. */
  private waiting: Frame[] | null = null;

  private blocked = false;
  /** Producer flow control: SENDs to full destinations, and the frames behind them. */
  readonly gate: SendGate;
  private readPaused = false;
  private heartBeats: HeartBeats | null = null;
  private connectTimer: NodeJS.Timeout | null;
  private partialFrameTimer: NodeJS.Timeout | null = null;
  /** When the frame being read began (its first byte), and how many frames had been read before it. */
  private frameStartedAt = 0;
  private framesRead = 0;
  private frameOfStart = -1;
  // Receipts wait for the store writes issued before them.
  private writesIssued = 0;
  private writesDone = 0;
  private readonly afterWrites: Array<{ after: number; run: () => void }> = [];

  constructor(
    private readonly link: Link,
    readonly ctx: ConnectionContext,
    readonly options: ConnectionOptions,
  ) {
    this.connectionId = ctx.ids.next('c');
    this.parser = new FrameParser((frame) => this.onFrame(frame), options.limits);
    this.gate = new SendGate(
      { handleHeld: (frame) => this.onFrame(frame), pauseReading: (paused) => this.pauseReading(paused), fail: (err, receiptId) => this.fail(err, receiptId) },
      ctx.flowControl,
      () => this.peer !== null,
    );
    this.connectTimer = setTimeout(
      () => this.fail(protocolError('STOMP_CONNECT_TIMEOUT').withDetail(`No CONNECT within ${options.connectAttemptTimeout} ms`)),
      options.connectAttemptTimeout,
    );
    link.start({ data: (chunk) => this.onData(chunk), drain: () => this.onDrain(), closed: () => this.onClosed() });
  }

  get remoteAddress(): string {
    return this.link.remoteAddress;
  }

  /** `stomp`, `ws` or `memory`: the transport it came by. */
  get transport(): string {
    return this.link.scheme;
  }

  get writable(): boolean {
    return !this.blocked;
  }

  /** MESSAGE frames escape their headers from STOMP 1.1 on. */
  get escape(): boolean {
    return this.version !== '1.0';
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.heartBeats?.read();
    const wasMidFrame = this.parser.midFrame;
    const framesBefore = this.framesRead;
    // ActiveMQ's own clients find amq-sim on the ports of the activemq.xml they came with: say what this is.
    if (this.state === 'connecting' && this.framesRead === 0 && !this.parser.midFrame && looksLikeOpenWire(chunk)) return this.fail(protocolError('STOMP_OPENWIRE_CLIENT'));
    try {
      this.parser.push(chunk);
      this.ctx.frameBuffers.update(this, this.parser.bufferedBytes);
    } catch (err) {
      this.fail(err);
      return;
    }
    // A frame begun in this chunk (none was under way, or the one that was has ended) starts its clock.
    if (this.parser.midFrame && (!wasMidFrame || this.framesRead !== framesBefore)) this.frameStartedAt = Date.now();
    this.watchPartialFrame();
  }

  private onFrame(frame: Frame): void {
    this.framesRead++;
    if (this.waiting) this.waiting.push(frame);
    else this.dispatch(frame);
  }

  private dispatch(frame: Frame): void {
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
      if (command === 'CONNECT' || command === 'STOMP') return handleConnect(this, frame);
      throw protocolError('STOMP_NOT_CONNECTED').withDetail(`Received ${command} before CONNECT`);
    }
    if (command === 'SEND' && this.peer) {
      const frames = this.peer.unbatch(frame);
      if (frames) {
        for (const f of frames) this.handle(f);
        return;
      }
    }
    if (this.gate.queues(frame)) return;
    switch (command) {
      case 'SEND':
        return handleSend(this, frame);
      case 'SUBSCRIBE':
        return handleSubscribe(this, frame);
      case 'UNSUBSCRIBE':
        return handleUnsubscribe(this, frame);
      case 'ACK':
        return handleAck(this, frame, false);
      case 'NACK':
        if (this.version === '1.0') throw protocolError('STOMP_NACK_V10');
        return handleAck(this, frame, true);
      case 'BEGIN':
        return handleBegin(this, frame);
      case 'COMMIT':
        return handleCommit(this, frame);
      case 'ABORT':
        return handleAbort(this, frame);
      case 'DISCONNECT':
        return this.onDisconnect(frame);
      case 'CONNECT':
      case 'STOMP':
        throw protocolError('STOMP_ALREADY_CONNECTED');
      default:
        throw protocolError('STOMP_UNKNOWN_COMMAND', command);
    }
  }

  /**
   * Runs `then` once `work` resolves (CONNECT's password check, off the
   * event loop); the frames that arrive meanwhile wait, in order, and
   * reading pauses. A rejection fails the connection.
   */
  waitFor<T>(work: Promise<T>, then: (value: T) => void, receiptId?: string): void {
    const waiting: Frame[] = (this.waiting = []);
    this.pauseReading(true);
    void work
      .then((value) => {
        if (this.state === 'connecting') then(value);
      })
      .catch((err: unknown) => this.fail(err, receiptId))
      .finally(() => {
        this.waiting = null;
        this.pauseReading(false);
        for (const frame of waiting) this.dispatch(frame);
      });
  }

  /** CONNECT was accepted: the connect handler hands over the negotiated version and heart-beats. */
  connected(version: StompVersion, heartBeat: HeartBeat, replyHeaders: Record<string, string>): void {
    this.version = version;
    this.parser.version = version;
    this.state = 'connected';
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.writeFrame({ command: 'CONNECTED', headers: createHeaders(replyHeaders), body: Buffer.alloc(0) }, false);
    // As ActiveMQ: read with the client's send interval (× the grace multiplier), write at its receive interval.
    const readCheck = heartBeat.send * Math.max(1, this.options.hbGracePeriodMultiplier);
    if (heartBeat.send > 0 || heartBeat.receive > 0) {
      this.heartBeats = new HeartBeats({
        sendEvery: heartBeat.receive,
        silenceLimit: Math.round(2 * readCheck),
        beat: () => this.link.write(HEART_BEAT),
        dead: (ms) => {
          this.ctx.logger.info({ connection: this.connectionId, remote: this.remoteAddress, silentMs: ms }, `Channel was inactive for too (>${Math.round(2 * readCheck)}) long: ${this.remoteAddress}`);
          this.close();
        },
      });
    }
  }

  /**
   * A frame must be complete within `partialFrameTimeout` of its first byte,
   * however its bytes trickle in (a byte every few seconds holds nothing for
   * long). Time while flow control holds the socket does not count.
   */
  private watchPartialFrame(): void {
    if (!this.parser.midFrame || this.partialFrameTimer) return;
    const limit = this.options.partialFrameTimeout;
    const check = (): void => {
      this.partialFrameTimer = null;
      if (!this.parser.midFrame || this.state === 'closed') return;
      if (this.readPaused) this.frameStartedAt = Date.now();
      const age = Date.now() - this.frameStartedAt;
      if (age >= limit) {
        this.fail(protocolError('STOMP_INCOMPLETE_FRAME').withDetail(`A frame was begun ${age} ms ago and is not complete (transport.partialFrameTimeout is ${limit} ms)`));
        return;
      }
      this.partialFrameTimer = setTimeout(check, limit - age);
    };
    this.partialFrameTimer = setTimeout(check, Math.max(0, limit - (Date.now() - this.frameStartedAt)));
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
  fail(err: unknown, receiptId?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    let error: AmqSimError;
    if (err instanceof ProtocolError) error = err;
    else {
      this.ctx.logger.error({ err, connection: this.connectionId }, 'Internal error while handling a frame');
      error = protocolError('STOMP_INTERNAL').withDetail(err instanceof Error ? err.message : String(err));
    }
    const message = error.message;
    this.ctx.logger.warn({ connection: this.connectionId, remote: this.remoteAddress, code: error.code, reason: message }, `Transport Connection to: ${this.remoteAddress} failed: ${message}`);
    const headers: Record<string, string> = { message, [ERROR_CODE_HEADER]: error.code, 'content-type': 'text/plain' };
    if (receiptId !== undefined) headers['receipt-id'] = receiptId;
    this.writeFrame({ command: 'ERROR', headers: createHeaders(headers), body: Buffer.from((error.detail ?? message) + '\n') });
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
    if (this.partialFrameTimer) clearTimeout(this.partialFrameTimer);
    this.connectTimer = this.partialFrameTimer = null;
    this.heartBeats?.stop();
    this.gate.close();
    this.ctx.frameBuffers.update(this, 0);
    if (this.readPaused) this.link.resumeReading();
    for (const tx of this.transactions.values()) {
      rollback(tx);
      this.ctx.router.flowControl.releaseTransaction(tx.bytes);
    }
    this.transactions.clear();
    for (const sub of [...this.subscriptions.values()]) closeSubscription(this, sub);
    for (const browser of this.browsers.values()) browser.close();
    this.browsers.clear();
    for (const { destination: dest } of this.temporaries.values()) {
      this.ctx.router.temporaries.delete(dest.key);
      this.ctx.router.removeDestination(dest);
    }
    this.temporaries.clear();
    for (const dest of this.producedTo.values()) this.ctx.advisories.producerRemoved(dest, this.connectionId);
    this.producedTo.clear();
    if (this.announced) this.ctx.advisories.connectionRemoved(this.connectionId);
    this.peer?.closed();
    this.ctx.connectionClosed(this);
  }

  // ---- output ----

  sendMessage(sub: StompSubscription, m: BrokerMessage, ackId: string): void {
    if (sub.settings.peer) return this.toPeer(sub, sub.settings.peer, m, ackId);
    const escape = this.version !== '1.0';
    const head = messageFrameHead(m, {
      subscriptionLine: sub.headerLine(escape),
      destinationLine: this.destinationLine(m, escape),
      ackId,
      escape,
    });
    this.stats.messagesOut++;
    this.writeMessageFrame(head, m.body);
  }

  /** A delivery to a peer's consumer joins the batch that leaves at the end of this turn of the event loop (or now, when full). */
  private toPeer(sub: StompSubscription, peer: PeerConsumer, m: BrokerMessage, ackId: string): void {
    let batch = this.peerBatches.get(sub);
    if (!batch) {
      if (this.peerBatches.size === 0) process.nextTick(() => this.flushPeerBatches());
      this.peerBatches.set(sub, (batch = { deliveries: [], bytes: 0 }));
    }
    batch.deliveries.push({ message: m, ackId });
    batch.bytes += m.size;
    if (batch.bytes < peer.batchBytes) return;
    this.peerBatches.delete(sub);
    this.writePeerBatch(sub, peer, batch.deliveries);
  }

  private flushPeerBatches(): void {
    for (const [sub, batch] of this.peerBatches) this.writePeerBatch(sub, sub.settings.peer!, batch.deliveries);
    this.peerBatches.clear();
  }

  private writePeerBatch(sub: StompSubscription, peer: PeerConsumer, deliveries: PeerDelivery[]): void {
    // A subscription that ended took its deliveries back (they were in flight).
    if (sub.closed || this.state === 'closed') return;
    const { headerLines, body } = peer.batch(deliveries);
    const head = `MESSAGE\n${sub.headerLine(true)}destination:${escapeHeaderValue(stompName(sub.settings.destination))}\nack:${deliveries[deliveries.length - 1].ackId}\n${headerLines}content-length:${body.length}\n\n`;
    this.stats.messagesOut += deliveries.length;
    this.writeMessageFrame(head, body);
  }

  writeMessageFrame(head: string, body: Buffer): void {
    this.heartBeats?.written();
    this.link.writeFrame(head, body);
    if (!this.blocked && this.link.backlog > BACKLOG_HIGH_WATER) this.blocked = true;
  }

  /** The destination header line; a connection's own temporary destinations keep the name it created them with. */
  private destinationLine(m: BrokerMessage, escape: boolean): string {
    if (m.destination.temporary) {
      for (const t of this.temporaries.values()) {
        if (t.destination.key === m.destination.key) return `destination:${escape ? escapeHeaderValue(t.created) : t.created}\n`;
      }
    }
    return destinationLine(m, escape);
  }

  writeFrame(frame: Frame, contentLength = true): void {
    this.heartBeats?.written();
    this.link.write(encodeFrame(frame, this.version, { contentLength }));
    if (!this.blocked && this.link.backlog > BACKLOG_HIGH_WATER) this.blocked = true;
  }

  private onDrain(): void {
    if (!this.blocked) return;
    this.blocked = false;
    for (const sub of this.subscriptions.values()) this.redispatch(sub);
    for (const browser of this.browsers.values()) browser.resume();
  }

  /** Dispatches what waits for a subscription that has room again. */
  redispatch(sub: StompSubscription): void {
    if (sub.topicSubscription) sub.topicSubscription.queue.dispatch();
    else this.ctx.router.redispatch(sub.settings.destination, sub);
  }

  /** Flow control holds more of this connection's frames than it may: stop reading until they go. */
  private pauseReading(paused: boolean): void {
    if (paused === this.readPaused || this.state === 'closed') return;
    this.readPaused = paused;
    this.heartBeats?.pauseReading(paused);
    if (paused) this.link.pauseReading();
    else this.link.resumeReading();
  }

  // ---- receipts ----

  /** A callback for a store write this connection issued: the receipts after it wait for it. */
  trackWrite(): (err?: Error) => void {
    const seq = ++this.writesIssued;
    return (err) => {
      if (err) {
        this.fail(protocolError('STOMP_STORE_FAILED', err.message));
        return;
      }
      if (seq > this.writesDone) this.writesDone = seq;
      while (this.afterWrites.length > 0 && this.afterWrites[0].after <= this.writesDone) this.afterWrites.shift()!.run();
    };
  }

  /** Runs `run` once every store write this connection issued so far is durable. */
  whenWritten(run: () => void): void {
    if (this.afterWrites.length === 0 && this.writesDone === this.writesIssued) run();
    else this.afterWrites.push({ after: this.writesIssued, run });
  }

  /**
   * Throws ActiveMQ's SecurityException text unless this connection's user
   * may `action` on `dest` (and create it, when it does not exist yet).
   */
  authorize(action: 'read' | 'write', dest: Destination): void {
    const { queues, topics } = this.ctx.router;
    const exists = dest.temporary || isWildcard(dest.name) || (dest.type === 'queue' ? queues : topics).has(dest.key);
    this.ctx.security.authorize(this.subject, action, dest, exists);
  }

  /** Writes a RECEIPT once the frame's effects are durable; `then` runs right after it is written. */
  receipt(receiptId: string | undefined, then?: () => void): void {
    if (receiptId === undefined) return;
    this.whenWritten(() => {
      if (this.state === 'closed') return;
      this.writeFrame({ command: 'RECEIPT', headers: createHeaders({ 'receipt-id': receiptId }), body: Buffer.alloc(0) });
      then?.();
    });
  }

  describe(): Record<string, unknown> {
    return {
      connectionId: this.connectionId,
      remoteAddress: this.remoteAddress,
      transport: this.transport,
      clientId: this.clientId,
      version: this.version,
      subscriptions: this.subscriptions.size,
      messagesIn: this.stats.messagesIn,
      messagesOut: this.stats.messagesOut,
      connectedAt: new Date(this.connectedAt).toISOString(),
    };
  }
}


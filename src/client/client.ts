import { EventEmitter } from 'node:events';
import { clientError } from '../errors.js';
import { createHeaders, type Frame, type Headers } from '../stomp/index.js';
import { type BrokerAddress, type ConnectTarget, type FailoverOptions, parseConnectTarget, reconnectDelay } from './failover-uri.js';
import { ConnectionLostError, Session, type SessionOptions, StompServerError } from './session.js';

export { ConnectionLostError, StompServerError } from './session.js';

export interface ReceivedMessage {
  headers: Headers;
  body: Buffer;
  readonly text: string;
  destination: string;
  messageId: string;
  subscription: string;
  redelivered: boolean;
}

export type MessageHandler = (message: ReceivedMessage) => void;

export interface SubscribeOptions {
  id?: string;
  ack?: 'auto' | 'client' | 'client-individual';
  headers?: Record<string, string>;
  /** Wait for the broker's RECEIPT before resolving. Default true. */
  receipt?: boolean;
}

export interface ClientSubscription {
  readonly id: string;
  readonly destination: string;
  unsubscribe(headers?: Record<string, string>): Promise<void>;
}

interface SubscriptionRecord {
  id: string;
  destination: string;
  headers: Headers;
  handler: MessageHandler;
}

interface PendingReceipt {
  resolve(): void;
  reject(err: Error): void;
}

export interface ClientOptions extends SessionOptions {
  /** Called with connection events for logs and progress output. */
  onEvent?: (event: string, detail: Record<string, unknown>) => void;
}

/**
 * A STOMP client for one broker or, with a `failover:(...)` URI, for a list
 * of them: it reconnects as ActiveMQ's failover transport does and
 * re-subscribes. Events: `connected` (address), `disconnected` (error),
 * `error` (StompServerError), `closed`.
 */
export class StompClient extends EventEmitter {
  private session: Session | null = null;
  private readonly subscriptions = new Map<string, SubscriptionRecord>();
  private readonly receipts = new Map<string, PendingReceipt>();
  private receiptSeq = 0;
  private subscriptionSeq = 0;
  private transactionSeq = 0;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private waiters: Array<{ resolve(): void; reject(err: Error): void }> = [];

  private constructor(
    private readonly target: ConnectTarget,
    private readonly options: ClientOptions,
  ) {
    super();
  }

  static async connect(uri: string, options: ClientOptions = {}): Promise<StompClient> {
    const client = new StompClient(parseConnectTarget(uri), options);
    await client.establish(true);
    return client;
  }

  get connected(): boolean {
    return this.session?.isOpen ?? false;
  }

  get version(): string {
    return this.session?.version ?? '1.0';
  }

  get serverHeaders(): Headers {
    return this.session?.connectedHeaders ?? createHeaders();
  }

  /** The broker currently connected to. */
  get address(): BrokerAddress | null {
    return this.session?.address ?? null;
  }

  // ---- connection management ----

  private async establish(startup: boolean): Promise<void> {
    const failover = this.target.failover;
    const limit = failover ? (startup && failover.startupMaxReconnectAttempts >= 0 ? failover.startupMaxReconnectAttempts : failover.maxReconnectAttempts) : 0;
    let attempt = 0;
    let lastError: Error = clientError('CLIENT_USAGE', 'no broker address');
    for (;;) {
      for (const address of this.order()) {
        if (this.closing) throw new ConnectionLostError('client closed');
        try {
          const session = await Session.open(address, this.options);
          this.adopt(session);
          return;
        } catch (err) {
          lastError = err as Error;
          if (err instanceof StompServerError) throw err;
        }
      }
      if (!failover || (limit >= 0 && attempt >= limit)) throw lastError;
      this.options.onEvent?.('reconnect-wait', { attempt, error: lastError.message });
      await sleep(reconnectDelay(failover, attempt));
      attempt++;
    }
  }

  private order(): BrokerAddress[] {
    const list = [...this.target.addresses];
    if (this.target.failover?.randomize) list.sort(() => Math.random() - 0.5);
    return list;
  }

  private adopt(session: Session): void {
    this.session = session;
    session.onFrame = (frame) => this.onFrame(frame);
    session.onClose = (err) => this.onSessionClosed(session, err);
    session.onDrain = () => this.drainedNow();
    for (const sub of this.subscriptions.values()) {
      session.send({ command: 'SUBSCRIBE', headers: createHeaders({ ...sub.headers, id: sub.id, destination: sub.destination }), body: Buffer.alloc(0) });
    }
    this.options.onEvent?.('connected', { address: session.address.url });
    this.emit('connected', session.address);
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  private onSessionClosed(session: Session, err: Error): void {
    if (this.session !== session) return;
    this.session = null;
    for (const r of this.receipts.values()) r.reject(err instanceof StompServerError ? err : new ConnectionLostError(err.message));
    this.receipts.clear();
    for (const w of this.drainWaiters.splice(0)) w();
    if (this.closing) return;
    this.options.onEvent?.('disconnected', { error: err.message });
    this.emit('disconnected', err);
    const failover: FailoverOptions | null = this.target.failover;
    if (!failover || failover.maxReconnectAttempts === 0) {
      this.failWaiters(err);
      this.emit('closed', err);
      return;
    }
    this.establish(false).catch((e: Error) => {
      this.failWaiters(e);
      this.emit('closed', e);
    });
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Resolves once connected (at once if connected now). */
  whenConnected(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (!this.target.failover || this.closing) return Promise.reject(new ConnectionLostError('not connected'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private onFrame(frame: Frame): void {
    switch (frame.command) {
      case 'MESSAGE': {
        const sub = this.subscriptions.get(frame.headers.subscription);
        if (!sub) return;
        sub.handler(toMessage(frame));
        return;
      }
      case 'RECEIPT': {
        const id = frame.headers['receipt-id'];
        const pending = this.receipts.get(id);
        if (pending) {
          this.receipts.delete(id);
          pending.resolve();
        }
        return;
      }
      case 'ERROR': {
        const err = new StompServerError(frame);
        const id = frame.headers['receipt-id'];
        const pending = id !== undefined ? this.receipts.get(id) : undefined;
        if (pending) {
          this.receipts.delete(id!);
          pending.reject(err);
        }
        if (this.listenerCount('error') > 0) this.emit('error', err);
        return;
      }
    }
  }

  // ---- frames ----

  private sendFrame(command: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): void {
    if (!this.session?.isOpen) throw new ConnectionLostError('Not connected');
    this.session.send({ command, headers: createHeaders(headers), body });
  }

  /** Sends a frame with a receipt header and resolves when the RECEIPT comes (rejects on ERROR or loss). */
  request(command: string, headers: Record<string, string>, body: Buffer = Buffer.alloc(0)): Promise<void> {
    const id = `r-${++this.receiptSeq}`;
    return new Promise<void>((resolve, reject) => {
      this.receipts.set(id, { resolve, reject });
      try {
        this.sendFrame(command, { ...headers, receipt: id }, body);
      } catch (err) {
        this.receipts.delete(id);
        reject(err);
      }
    });
  }

  send(destination: string, body: string | Buffer = '', headers: Record<string, string> = {}): void {
    this.sendFrame('SEND', { ...headers, destination }, typeof body === 'string' ? Buffer.from(body) : body);
  }

  sendWithReceipt(destination: string, body: string | Buffer = '', headers: Record<string, string> = {}): Promise<void> {
    return this.request('SEND', { ...headers, destination }, typeof body === 'string' ? Buffer.from(body) : body);
  }

  async subscribe(destination: string, handler: MessageHandler, options: SubscribeOptions = {}): Promise<ClientSubscription> {
    const id = options.id ?? `sub-${++this.subscriptionSeq}`;
    const headers = createHeaders({ ack: options.ack ?? 'auto', ...options.headers });
    this.subscriptions.set(id, { id, destination, headers, handler });
    const frameHeaders = { ...headers, id, destination };
    try {
      if (options.receipt === false) this.sendFrame('SUBSCRIBE', frameHeaders);
      else await this.request('SUBSCRIBE', frameHeaders);
    } catch (err) {
      this.subscriptions.delete(id);
      throw err;
    }
    return {
      id,
      destination,
      unsubscribe: async (extra = {}) => {
        this.subscriptions.delete(id);
        await this.request('UNSUBSCRIBE', { ...extra, id });
      },
    };
  }

  private ackHeaders(message: ReceivedMessage, transaction?: string): Record<string, string> {
    const h: Record<string, string> =
      this.version === '1.2' ? { id: message.headers.ack } : this.version === '1.1' ? { 'message-id': message.messageId, subscription: message.subscription } : { 'message-id': message.messageId };
    if (transaction !== undefined) h.transaction = transaction;
    return h;
  }

  ack(message: ReceivedMessage, transaction?: string): void {
    this.sendFrame('ACK', this.ackHeaders(message, transaction));
  }

  nack(message: ReceivedMessage, transaction?: string): void {
    this.sendFrame('NACK', this.ackHeaders(message, transaction));
  }

  ackWithReceipt(message: ReceivedMessage, transaction?: string): Promise<void> {
    return this.request('ACK', this.ackHeaders(message, transaction));
  }

  async begin(id = `tx-${++this.transactionSeq}`): Promise<string> {
    await this.request('BEGIN', { transaction: id });
    return id;
  }

  commit(transaction: string): Promise<void> {
    return this.request('COMMIT', { transaction });
  }

  abort(transaction: string): Promise<void> {
    return this.request('ABORT', { transaction });
  }

  /** True while more than `bytes` wait to be written. */
  backlogAbove(bytes: number): boolean {
    return (this.session?.backlog ?? 0) > bytes;
  }

  /** Resolves when what was written has left (or the connection is gone). */
  drained(): Promise<void> {
    if ((this.session?.backlog ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drainedNow(): void {
    if ((this.session?.backlog ?? 0) > 0) return;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** DISCONNECT with a receipt (so everything sent before is processed), then close. */
  async disconnect(): Promise<void> {
    this.closing = true;
    const session = this.session;
    if (!session?.isOpen) return;
    try {
      await withTimeout(this.request('DISCONNECT', {}), 5000);
    } catch {
      /* closing anyway */
    }
    session.destroy();
    this.emit('closed');
  }

  /** Closes at once without DISCONNECT (as a crashing client would). */
  destroy(): void {
    this.closing = true;
    this.session?.destroy();
  }
}

function toMessage(frame: Frame): ReceivedMessage {
  const h = frame.headers;
  return {
    headers: h,
    body: frame.body,
    get text() {
      return frame.body.toString('utf8');
    },
    destination: h.destination,
    messageId: h['message-id'],
    subscription: h.subscription,
    redelivered: h.redelivered === 'true',
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(clientError('CLIENT_USAGE', `no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

import { clientError, ClientError } from '../errors.js';
import { createHeaders, encodeFrame, type Frame, FrameParser, HEART_BEAT, type Headers, parseHeartBeat, type StompVersion } from '../stomp/index.js';
import { HeartBeats } from '../transport/heart-beat.js';
import { BACKLOG_HIGH_WATER, type Link } from '../transport/link.js';
import { dialTcp } from '../transport/tcp.js';
import { dialWebSocket } from '../transport/websocket.js';
import type { TlsMaterial } from '../transport/tls.js';
import type { BrokerAddress } from './failover-uri.js';

export interface SessionOptions {
  /** Versions to offer, best last: default 1.0,1.1,1.2. */
  acceptVersion?: string;
  /** [can send every ms, want to receive every ms]. */
  heartBeat?: [number, number];
  /** Extra CONNECT headers (login, passcode, client-id, host...). */
  connectHeaders?: Record<string, string>;
  connectTimeout?: number;
  /** Multiplier on the broker's heart-beat interval before the link is declared dead (default 2). */
  heartBeatGrace?: number;
  /** For stomp+ssl:// and wss:// addresses: the CA to trust (else the system's), and a client certificate and key when the broker asks for one. */
  tls?: TlsMaterial;
}

const DEFAULT_CONNECT_TIMEOUT = 10_000;

/** The broker answered CONNECT with ERROR, or sent ERROR later. */
export class StompServerError extends ClientError {
  override name = 'StompServerError';
  constructor(readonly frame: Frame) {
    super('CLIENT_SERVER_ERROR', frame.headers.message ?? 'ERROR frame without a message');
    this.detail = frame.body.toString('utf8');
  }
}

export class ConnectionLostError extends ClientError {
  override name = 'ConnectionLostError';
  constructor(reason: string) {
    super('CLIENT_CONNECTION_LOST', reason);
  }
}

/**
 * A fault put on a live connection on purpose (amq-sim is a simulator):
 * - `stall`: frames stop in both directions while heart-beats still flow and
 *   the TCP connection stays open (a link that looks healthy and moves nothing);
 * - `blackhole`: nothing moves at all, heart-beats included (a silently dead
 *   link, as ActiveMQ's inactivity monitor finds after 30-90 s);
 * - `delay`: every chunk, in and out, is held for `ms`.
 */
export type LinkFault = { kind: 'stall' } | { kind: 'blackhole' } | { kind: 'delay'; ms: number };

/**
 * One STOMP connection to one broker: CONNECT handshake, heart-beats, frame
 * I/O over a Link. It does not reconnect; StompClient does that on top.
 */
export class Session {
  version: StompVersion = '1.0';
  connectedHeaders: Headers = createHeaders();
  private readonly parser: FrameParser;
  private link: Link | null = null;
  private closed = false;
  private heartBeats: HeartBeats | null = null;
  private fault: LinkFault | null = null;
  /** What a fault holds: frames to write, and frames (stall) or chunks (blackhole) read. */
  private heldOut: Buffer[] = [];
  private heldIn: Array<Frame | Buffer> = [];
  onFrame: (frame: Frame) => void = () => {};
  onClose: (err: Error) => void = () => {};
  /** The outgoing backlog drained. */
  onDrain: () => void = () => {};

  private constructor(readonly address: BrokerAddress) {
    this.parser = new FrameParser((frame) => this.received(frame));
  }

  static open(address: BrokerAddress, options: SessionOptions = {}): Promise<Session> {
    const session = new Session(address);
    return session.handshake(options).then(() => session);
  }

  private handshake(options: SessionOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const timeoutMs = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
      const timeout = setTimeout(() => fail(clientError('CLIENT_CONNECT_TIMEOUT', this.address.url, timeoutMs)), timeoutMs);
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        this.destroy(err);
        reject(err);
      };
      this.onClose = fail;
      this.onFrame = (frame) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        if (frame.command !== 'CONNECTED') {
          const err = frame.command === 'ERROR' ? new StompServerError(frame) : clientError('CLIENT_UNEXPECTED_FRAME', frame.command);
          this.destroy(err);
          reject(err);
          return;
        }
        this.connectedHeaders = frame.headers;
        this.version = (frame.headers.version as StompVersion) ?? '1.0';
        this.parser.version = this.version;
        this.onClose = () => {};
        this.onFrame = () => {};
        this.startHeartBeats(options, frame.headers['heart-beat']);
        resolve();
      };
      const hb = options.heartBeat ?? [0, 0];
      const headers = createHeaders({
        'accept-version': options.acceptVersion ?? '1.0,1.1,1.2',
        host: this.address.host,
        'heart-beat': `${hb[0]},${hb[1]}`,
        ...options.connectHeaders,
      });
      const secure = this.address.tls ? (options.tls ?? {}) : undefined;
      const dial = this.address.scheme === 'ws' ? dialWebSocket(this.address.url, BACKLOG_HIGH_WATER, secure) : dialTcp(this.address.host, this.address.port, secure);
      dial.then(
        (link) => {
          if (settled) return link.destroy();
          this.attach(link);
          this.send({ command: 'CONNECT', headers, body: Buffer.alloc(0) });
        },
        (err: Error) => fail(err),
      );
    });
  }

  private attach(link: Link): void {
    this.link = link;
    link.start({
      data: (chunk) => this.chunk(chunk),
      drain: () => this.onDrain(),
      closed: () => this.destroy(new ConnectionLostError(`Connection to ${this.address.url} closed`)),
    });
  }

  private chunk(chunk: Buffer): void {
    const f = this.fault;
    if (f?.kind === 'blackhole') this.heldIn.push(chunk);
    else if (f?.kind === 'delay') setTimeout(() => this.parse(chunk), f.ms);
    else this.parse(chunk);
  }

  private parse(chunk: Buffer): void {
    if (this.closed) return;
    this.heartBeats?.read();
    try {
      this.parser.push(chunk);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private received(frame: Frame): void {
    if (this.fault?.kind === 'stall') this.heldIn.push(frame);
    else this.onFrame(frame);
  }

  /** Puts a fault on this connection, or (null) lifts it and lets through what it held. */
  setFault(fault: LinkFault | null): void {
    this.fault = fault;
    if (fault !== null) return;
    for (const d of this.heldOut.splice(0)) this.writeNow(d);
    for (const x of this.heldIn.splice(0)) {
      if (this.closed) return;
      if (Buffer.isBuffer(x)) this.parse(x);
      else this.onFrame(x);
    }
  }

  get currentFault(): LinkFault | null {
    return this.fault;
  }

  private writeNow(d: Buffer): void {
    const link = this.link;
    if (!link) return;
    const f = this.fault;
    if (f?.kind === 'stall' || f?.kind === 'blackhole') this.heldOut.push(d);
    else if (f?.kind === 'delay') setTimeout(() => this.link?.write(d), f.ms);
    else link.write(d);
  }

  private writeBeat(): void {
    const f = this.fault;
    if (f?.kind === 'blackhole') return;
    if (f?.kind === 'delay') setTimeout(() => this.link?.write(HEART_BEAT), f.ms);
    else this.link?.write(HEART_BEAT);
  }

  private startHeartBeats(options: SessionOptions, serverHeartBeat: string | undefined): void {
    const ours = options.heartBeat ?? [0, 0];
    const theirs = parseHeartBeat(serverHeartBeat) ?? { send: 0, receive: 0 };
    const sendEvery = ours[0] > 0 && theirs.receive > 0 ? Math.max(ours[0], theirs.receive) : 0;
    const expectEvery = ours[1] > 0 && theirs.send > 0 ? Math.max(ours[1], theirs.send) : 0;
    if (sendEvery === 0 && expectEvery === 0) return;
    this.heartBeats = new HeartBeats({
      sendEvery,
      silenceLimit: Math.round(expectEvery * (options.heartBeatGrace ?? 2)),
      beat: () => this.writeBeat(),
      dead: (ms) => this.destroy(new ConnectionLostError(`No heart-beat from ${this.address.url} for ${ms} ms`)),
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Bytes written and not yet taken by the OS. */
  get backlog(): number {
    return this.link?.backlog ?? 0;
  }

  send(frame: Frame): void {
    this.sendRaw(encodeFrame(frame, this.version, { contentLength: frame.command !== 'CONNECT' }));
  }

  /** Writes raw bytes (already encoded frames). */
  sendRaw(data: Buffer): void {
    if (this.closed || !this.link) throw new ConnectionLostError(`Not connected to ${this.address.url}`);
    this.heartBeats?.written();
    this.writeNow(data);
  }

  destroy(err: Error = new ConnectionLostError('closed')): void {
    if (this.closed) return;
    this.closed = true;
    this.heartBeats?.stop();
    this.link?.destroy();
    this.onClose(err);
  }
}

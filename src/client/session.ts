import net from 'node:net';
import { WebSocket } from 'ws';
import {
  createHeaders,
  encodeFrame,
  type Frame,
  FrameParser,
  HEART_BEAT,
  type Headers,
  parseHeartBeat,
  type StompVersion,
} from '../stomp/index.js';
import type { BrokerAddress } from './failover-uri.js';

export interface SessionOptions {
  /** Versions to offer, best last: default 1.0,1.1,1.2. */
  acceptVersion?: string;
  /** [can send every ms, want to receive every ms]. */
  heartBeat?: [number, number];
  /** Extra CONNECT headers (login, passcode, client-id, host...). */
  connectHeaders?: Record<string, string>;
  connectTimeout?: number;
  /** Multiplier on the broker's heart-beat interval before the link is declared dead. */
  heartBeatGrace?: number;
}

/** The broker answered CONNECT with ERROR, or sent ERROR later. */
export class StompServerError extends Error {
  override readonly name = 'StompServerError';
  constructor(readonly frame: Frame) {
    super(frame.headers.message ?? 'ERROR frame without a message');
  }
  get detail(): string {
    return this.frame.body.toString('utf8');
  }
}

export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

interface Wire {
  write(data: Buffer): void;
  close(): void;
}

/**
 * A fault put on a live connection on purpose (amq-sim is a simulator):
 * `stall` keeps the TCP connection open but moves nothing in either
 * direction; `delay` holds every chunk, in and out, for `ms`.
 */
export type LinkFault = { kind: 'stall' } | { kind: 'delay'; ms: number };

/**
 * One STOMP connection to one broker: CONNECT handshake, heart-beats, frame
 * I/O. It does not reconnect; StompClient does that on top.
 */
export class Session {
  version: StompVersion = '1.0';
  connectedHeaders: Headers = createHeaders();
  private readonly parser: FrameParser;
  private wire: Wire | null = null;
  private closed = false;
  private readTimer: NodeJS.Timeout | null = null;
  private writeTimer: NodeJS.Timeout | null = null;
  private readSince = false;
  private wroteSince = false;
  onFrame: (frame: Frame) => void = () => {};
  onClose: (err: Error) => void = () => {};

  private constructor(readonly address: BrokerAddress) {
    this.parser = new FrameParser((frame) => this.onFrame(frame));
  }

  static open(address: BrokerAddress, options: SessionOptions = {}): Promise<Session> {
    const session = new Session(address);
    return session.handshake(options).then(() => session);
  }

  private handshake(options: SessionOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => fail(new Error(`No CONNECTED from ${this.address.url} within ${options.connectTimeout ?? 10_000} ms`)), options.connectTimeout ?? 10_000);
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
          const err = frame.command === 'ERROR' ? new StompServerError(frame) : new Error(`Expected CONNECTED, got ${frame.command}`);
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
      this.openWire(
        () => this.send({ command: 'CONNECT', headers, body: Buffer.alloc(0) }),
        (err) => fail(err),
      );
    });
  }

  private fault: LinkFault | null = null;
  private held: Buffer[] = [];

  /** Puts a fault on this connection, or (null) lifts it. */
  setFault(fault: LinkFault | null): void {
    this.fault = fault;
    if (fault?.kind === 'stall') this.socket?.pause();
    else {
      this.socket?.resume();
      for (const d of this.held.splice(0)) this.writeNow(d);
    }
  }

  get currentFault(): LinkFault | null {
    return this.fault;
  }

  private writeNow(d: Buffer): void {
    if (!this.wire) return;
    const f = this.fault;
    if (f?.kind === 'stall') this.held.push(d);
    else if (f?.kind === 'delay') setTimeout(() => this.wire?.write(d), f.ms);
    else this.wire.write(d);
  }

  private openWire(onOpen: () => void, onError: (err: Error) => void): void {
    const parse = (chunk: Buffer) => {
      this.readSince = true;
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.destroy(err as Error);
      }
    };
    const received = (chunk: Buffer) => {
      const f = this.fault;
      if (f?.kind === 'delay') setTimeout(() => !this.closed && parse(chunk), f.ms);
      else parse(chunk);
    };
    if (this.address.scheme === 'ws') {
      const ws = new WebSocket(this.address.url, ['v12.stomp', 'v11.stomp', 'v10.stomp']);
      ws.binaryType = 'nodebuffer';
      ws.on('open', onOpen);
      ws.on('message', (data: Buffer) => received(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer)));
      ws.on('error', onError);
      ws.on('close', () => this.destroy(new ConnectionLostError(`Connection to ${this.address.url} closed`)));
      this.wire = { write: (d) => ws.send(d), close: () => ws.close() };
      return;
    }
    const socket = net.connect({ host: this.address.host, port: this.address.port, noDelay: true });
    let corked = false;
    socket.on('connect', onOpen);
    socket.on('data', received);
    socket.on('error', onError);
    socket.on('close', () => this.destroy(new ConnectionLostError(`Connection to ${this.address.url} closed`)));
    this.wire = {
      write: (d) => {
        if (!corked) {
          corked = true;
          socket.cork();
          process.nextTick(() => {
            corked = false;
            socket.uncork();
          });
        }
        socket.write(d);
      },
      close: () => socket.destroy(),
    };
    this.socket = socket;
  }

  /** The TCP socket, for back-pressure checks (undefined over WebSocket). */
  socket: net.Socket | undefined;

  private startHeartBeats(options: SessionOptions, serverHeartBeat: string | undefined): void {
    const ours = options.heartBeat ?? [0, 0];
    const theirs = parseHeartBeat(serverHeartBeat) ?? { send: 0, receive: 0 };
    const sendEvery = ours[0] > 0 && theirs.receive > 0 ? Math.max(ours[0], theirs.receive) : 0;
    const expectEvery = ours[1] > 0 && theirs.send > 0 ? Math.max(ours[1], theirs.send) : 0;
    if (sendEvery > 0) {
      this.writeTimer = setInterval(() => {
        if (!this.wroteSince) this.writeNow(HEART_BEAT);
        this.wroteSince = false;
      }, Math.max(1, Math.floor(sendEvery / 2)));
    }
    if (expectEvery > 0) {
      const grace = options.heartBeatGrace ?? 2;
      this.readSince = false;
      this.readTimer = setInterval(() => {
        if (!this.readSince) this.destroy(new ConnectionLostError(`No heart-beat from ${this.address.url} for ${Math.round(expectEvery * grace)} ms`));
        this.readSince = false;
      }, Math.floor(expectEvery * grace));
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  send(frame: Frame): void {
    if (this.closed || !this.wire) throw new ConnectionLostError(`Not connected to ${this.address.url}`);
    this.wroteSince = true;
    this.writeNow(encodeFrame(frame, this.version, { contentLength: frame.command !== 'CONNECT' }));
  }

  /** Writes raw bytes (already encoded frames). */
  sendRaw(data: Buffer): void {
    if (this.closed || !this.wire) throw new ConnectionLostError(`Not connected to ${this.address.url}`);
    this.wroteSince = true;
    this.writeNow(data);
  }

  destroy(err: Error = new ConnectionLostError('closed')): void {
    if (this.closed) return;
    this.closed = true;
    if (this.readTimer) clearInterval(this.readTimer);
    if (this.writeTimer) clearInterval(this.writeTimer);
    this.wire?.close();
    this.onClose(err);
  }
}

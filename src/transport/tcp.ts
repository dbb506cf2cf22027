import net from 'node:net';
import tls from 'node:tls';
import { FRAME_END } from '../stomp/index.js';
import type { Link, LinkHandlers } from './link.js';
import type { TlsMaterial } from './tls.js';
import { listen } from '../util/listen.js';

/** How long an ended socket may wait for its peer to close before it is destroyed. */
const END_TIMEOUT_MS = 2000;

/** Bodies at least this large are written as they are instead of being copied into the batch. */
const LARGE_BODY = 64 * 1024;

/**
 * A TCP connection. Frames written during one turn of the event loop are
 * encoded into one buffer and leave in one write.
 */
export class TcpLink implements Link {
  readonly remoteAddress: string;
  private handlers: LinkHandlers | null = null;
  private closed = false;
  private batch: Array<string | Buffer> = [];
  private batchBytes = 0;
  private flushScheduled = false;

  constructor(
    readonly scheme: string,
    private readonly socket: net.Socket,
  ) {
    this.remoteAddress = `tcp://${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
  }

  get backlog(): number {
    return this.socket.writableLength + this.batchBytes;
  }

  start(handlers: LinkHandlers): void {
    this.handlers = handlers;
    this.socket.on('data', handlers.data);
    this.socket.on('drain', handlers.drain);
    this.socket.on('error', () => {
      /* reported through 'close' */
    });
    this.socket.on('close', (hadError) => {
      this.closed = true;
      handlers.closed(hadError ? new Error('socket error') : undefined);
    });
  }

  write(data: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.batch.push(data);
    this.batchBytes += data.length;
    this.scheduleFlush();
  }

  writeFrame(head: string, body: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (body.length >= LARGE_BODY) {
      this.flush();
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(body);
      this.socket.write(FRAME_END);
      this.socket.uncork();
      return;
    }
    this.batch.push(head, body, FRAME_END);
    this.batchBytes += Buffer.byteLength(head) + body.length + FRAME_END.length;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const out = Buffer.allocUnsafe(this.batchBytes);
    let offset = 0;
    for (const part of this.batch) {
      if (typeof part === 'string') offset += out.write(part, offset, 'utf8');
      else offset += part.copy(out, offset);
    }
    this.batch = [];
    this.batchBytes = 0;
    if (this.socket.destroyed) return;
    // A write the OS took at once returns true and no 'drain' follows: say so here.
    if (this.socket.write(out)) this.handlers?.drain();
  };

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), END_TIMEOUT_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface ListeningServer {
  readonly port: number;
  close(): Promise<void>;
}

/** How long a TLS client may take over its handshake before the socket is dropped. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Opens a TCP connection to a broker (the client side of a TcpLink); over TLS when `secure` is given. */
export function dialTcp(host: string, port: number, secure?: TlsMaterial): Promise<TcpLink> {
  return new Promise((resolve, reject) => {
    const socket = secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ...secure }) : net.connect({ host, port });
    socket.setNoDelay(true);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject);
      resolve(new TcpLink(secure ? 'stomp+ssl' : 'stomp', socket));
    });
    socket.once('error', reject);
  });
}

/** Listens for TCP connections, over TLS when `secure` is given; each becomes a TcpLink handed to `accept`. */
export async function listenTcp(
  scheme: string,
  host: string,
  port: number,
  accept: (link: Link) => void,
  onError: (err: NodeJS.ErrnoException) => void,
  secure?: tls.TlsOptions,
): Promise<ListeningServer> {
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    accept(new TcpLink(scheme, socket));
  };
  const server = secure ? tls.createServer({ ...secure, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, onSocket) : net.createServer({ noDelay: true }, onSocket);
  // A client that fails its handshake (no certificate, an unknown CA) is dropped; the server goes on.
  server.on('tlsClientError', () => {});
  await listen(server, { host, port });
  // Accept failures (EMFILE at the file limit) must not stop the server.
  server.on('error', onError);
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

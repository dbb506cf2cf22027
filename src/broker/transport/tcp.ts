import net from 'node:net';
import type { Link, LinkHandlers } from './link.js';

/** How long an ended socket may wait for its peer to close before it is destroyed. */
const END_TIMEOUT_MS = 2000;

export class TcpLink implements Link {
  readonly remoteAddress: string;
  private corked = false;
  private handlers: LinkHandlers | null = null;
  private closed = false;

  constructor(
    readonly scheme: string,
    private readonly socket: net.Socket,
  ) {
    this.remoteAddress = `tcp://${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
  }

  get backlog(): number {
    return this.socket.writableLength;
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
    // Frames written in one turn of the event loop leave in one writev.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.socket.write(data);
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(): void {
    if (this.closed) return;
    if (this.corked) this.uncork();
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

/** Listens for TCP connections; each becomes a TcpLink handed to `accept`. */
export async function listenTcp(
  scheme: string,
  host: string,
  port: number,
  accept: (link: Link) => void,
  onError: (err: NodeJS.ErrnoException) => void,
): Promise<ListeningServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    accept(new TcpLink(scheme, socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
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

import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** From the target to the client ('down'), or from the client to the target ('up'). */
export type Direction = 'down' | 'up';

interface Fault {
  direction: Direction;
  /** Bytes still to let through before the fault. */
  remaining: number;
  kind: 'cut' | 'hold';
  happened: () => void;
}

/**
 * A TCP proxy on loopback that a test puts between two brokers, to break a
 * connection at an exact byte: cut it there, or hold everything after it
 * (TCP stays open, nothing more arrives). A fault strikes once; connections
 * made after it pass freely.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private fault: Fault | null = null;

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (client) => this.pair(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new TcpProxy(server, targetPort);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Lets `bytes` more bytes go `direction`, then cuts or holds that connection; resolves when it did. */
  faultAfter(direction: Direction, bytes: number, kind: 'cut' | 'hold'): Promise<void> {
    return new Promise((happened) => (this.fault = { direction, remaining: bytes, kind, happened }));
  }

  private pair(client: Socket): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    const both = [client, upstream];
    let held: Direction | null = null;
    for (const s of both) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        for (const other of both) other.destroy();
      });
    }
    const pass = (direction: Direction, to: Socket) => (chunk: Buffer) => {
      if (held === direction) return;
      const f = this.fault;
      if (f === null || f.direction !== direction || chunk.length < f.remaining) {
        if (f?.direction === direction) f.remaining -= chunk.length;
        to.write(chunk);
        return;
      }
      this.fault = null;
      to.write(chunk.subarray(0, f.remaining), () => {
        if (f.kind === 'cut') for (const s of both) s.destroy();
        f.happened();
      });
      if (f.kind === 'hold') held = direction;
    };
    client.on('data', pass('up', upstream));
    upstream.on('data', pass('down', client));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

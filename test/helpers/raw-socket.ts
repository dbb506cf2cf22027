import net from 'node:net';
import { type Frame, FrameParser, type StompVersion } from '../../src/stomp/index.js';

/** A bare TCP socket that writes raw bytes and collects the frames the broker sends back. */
export class RawStompSocket {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly parser = new FrameParser((f) => {
    this.frames.push(f);
    this.wake();
  });
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => {
      try {
        this.parser.push(d);
      } catch {
        /* the test inspects what arrived */
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawStompSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawStompSocket(s)));
      s.once('error', reject);
    });
  }

  set version(v: StompVersion) {
    this.parser.version = v;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; frames so far: ${this.frames.map((f) => f.command).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves with the next frame of a command (removing it and everything before from `frames`). */
  async next(command?: string, timeoutMs = 5000): Promise<Frame> {
    const find = () => this.frames.findIndex((f) => command === undefined || f.command === command);
    await this.until(() => find() >= 0, timeoutMs, command ?? 'a frame');
    const i = find();
    const [f] = this.frames.splice(0, i + 1).slice(-1);
    return f;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => this.closed, timeoutMs, 'the socket to close');
  }

  /** CONNECT and wait for CONNECTED. */
  async connect(headers = 'accept-version:1.2\nhost:localhost'): Promise<Frame> {
    this.write(`CONNECT\n${headers}\n\n\0`);
    const f = await this.next();
    if (f.command === 'CONNECTED') this.parser.version = (f.headers.version as StompVersion) ?? '1.0';
    return f;
  }

  close(): void {
    this.socket.destroy();
  }
}

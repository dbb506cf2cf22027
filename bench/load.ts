/**
 * The load side of the benchmark: raw STOMP connections, so one tool
 * measures any STOMP broker (amq-sim or ActiveMQ) the same way. It reads
 * frames with a lean reader of its own rather than amq-sim's codec: headers
 * are looked up on demand, so the tool's CPU (which shares the machine with
 * the broker) stays as small as it can. Message bodies carry the producer index and a sequence number, so
 * every run checks that each message arrived exactly once.
 */
import net from 'node:net';

/**
 * A frame as the load tool sees it: headers are looked up on demand, so
 * receiving costs the tool as little as possible (its CPU is not the broker's).
 */
export class LeanFrame {
  constructor(
    readonly command: string,
    private readonly buf: Buffer,
    private readonly headStart: number,
    private readonly headEnd: number,
    readonly body: Buffer,
  ) {}

  header(name: string): string | undefined {
    const key = `\n${name}:`;
    const at = this.buf.indexOf(key, this.headStart - 1, 'latin1');
    if (at < 0 || at >= this.headEnd) return undefined;
    const from = at + key.length;
    const to = this.buf.indexOf(0x0a, from);
    return this.buf.toString('utf8', from, to < 0 || to > this.headEnd ? this.headEnd : to);
  }
}

const CONTENT_LENGTH = Buffer.from('\ncontent-length:');

/** Splits a byte stream into LeanFrames. Expects LF line ends (as amq-sim and ActiveMQ send). */
class LeanReader {
  private rest: Buffer | null = null;

  constructor(private readonly emit: (f: LeanFrame) => void) {}

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    let pos = 0;
    while (pos < buf.length) {
      while (pos < buf.length && (buf[pos] === 0x0a || buf[pos] === 0x0d)) pos++;
      if (pos >= buf.length) return;
      const cmdEnd = buf.indexOf(0x0a, pos);
      const headEnd = cmdEnd < 0 ? -1 : buf.indexOf('\n\n', cmdEnd - 1, 'latin1');
      if (headEnd < 0) break;
      const bodyStart = headEnd + 2;
      const cl = buf.indexOf(CONTENT_LENGTH, cmdEnd);
      let bodyEnd: number;
      if (cl >= 0 && cl < headEnd) {
        let n = 0;
        for (let i = cl + CONTENT_LENGTH.length; buf[i] !== 0x0a; i++) n = n * 10 + (buf[i] - 48);
        bodyEnd = bodyStart + n;
        if (bodyEnd >= buf.length) break;
      } else {
        bodyEnd = buf.indexOf(0, bodyStart);
        if (bodyEnd < 0) break;
      }
      this.emit(new LeanFrame(buf.toString('latin1', pos, cmdEnd), buf, cmdEnd + 1, headEnd + 1, buf.subarray(bodyStart, bodyEnd)));
      pos = bodyEnd + 1;
    }
    if (pos < buf.length) this.rest = buf.subarray(pos);
  }
}

export class LoadConnection {
  private readonly reader: LeanReader;
  private frameHandler: (f: LeanFrame) => void = () => {};
  private closedHandler: () => void = () => {};
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    this.reader = new LeanReader((f) => this.frameHandler(f));
    socket.on('data', (d) => this.reader.push(d));
    socket.on('close', () => {
      this.closed = true;
      this.closedHandler();
    });
    socket.on('error', () => {});
  }

  static open(port: number, headers: Record<string, string> = {}, host = '127.0.0.1'): Promise<LoadConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        const conn = new LoadConnection(socket);
        const extra = Object.entries({ 'accept-version': '1.1,1.2', host: 'localhost', ...headers })
          .map(([k, v]) => `${k}:${v}\n`)
          .join('');
        conn.frameHandler = (f) => {
          socket.off('error', reject);
          if (f.command !== 'CONNECTED') return reject(new Error(`CONNECT refused: ${f.header('message')}`));
          conn.frameHandler = () => {};
          resolve(conn);
        };
        socket.write(`CONNECT\n${extra}\n\0`);
      });
    });
  }

  onFrame(handler: (f: LeanFrame) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: () => void): void {
    this.closedHandler = handler;
  }

  /** Writes; resolves at once unless the socket buffer is full, then on drain. */
  write(data: Buffer | string): Promise<void> | undefined {
    if (this.socket.write(data)) return undefined;
    return new Promise((resolve) => this.socket.once('drain', resolve));
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Body layout: producer index (2 digits), ':', sequence (10 digits), ':', send time in µs (16 digits), ':', padding. */
const STAMP = 2 + 1 + 10 + 1 + 16 + 1;
export const MIN_BODY = STAMP;

export function stampBody(body: Buffer, producer: number, seq: number, sentMicros: number): void {
  body.write(`${String(producer).padStart(2, '0')}:${String(seq).padStart(10, '0')}:${String(Math.floor(sentMicros)).padStart(16, '0')}:`, 0, 'latin1');
}

function digits(buf: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (buf[i] - 48);
  return n;
}

export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProduceOptions {
  destination: string;
  count: number;
  size: number;
  producer: number;
  persistent?: boolean;
  /** Ask for a receipt on every n-th SEND and on the last, waiting for each before going on (1 = every SEND, 0 = never). */
  receiptEvery?: number;
  /** Fixed rate in messages per second; 0 = as fast as the broker takes them. */
  rate?: number;
  /** Kept up to date with how many SENDs are receipted so far (those up to the last receipt). */
  progress?: { receipted: number };
  /** More SEND headers (such as AMQ_SCHEDULED_DELAY). */
  headers?: Record<string, string>;
}

/** Sends `count` messages; resolves when the last is written (and receipted, when asked). */
export async function produce(conn: LoadConnection, o: ProduceOptions): Promise<void> {
  const size = Math.max(o.size, MIN_BODY);
  const receiptEvery = o.receiptEvery ?? 0;
  const extra = Object.entries(o.headers ?? {})
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  const headTemplate = `SEND\ndestination:${o.destination}\n${o.persistent ? 'persistent:true\n' : ''}${extra}content-length:${size}\n`;
  const pad = Buffer.alloc(size - MIN_BODY, 'x');
  let waitingReceipt: ((id: string) => void) | null = null;
  conn.onFrame((f) => {
    if (f.command === 'RECEIPT' && waitingReceipt) waitingReceipt(f.header('receipt-id')!);
    if (f.command === 'ERROR') throw new Error(`broker error: ${f.header('message')}`);
  });
  const start = nowMicros();
  for (let seq = 0; seq < o.count; seq++) {
    if (o.rate) {
      const due = start + (seq * 1e6) / o.rate;
      const wait = due - nowMicros();
      if (wait > 1000) await new Promise((r) => setTimeout(r, wait / 1000));
    }
    // The last SEND always asks for a receipt, so the run ends when everything is stored.
    const wantsReceipt = receiptEvery > 0 && ((seq + 1) % receiptEvery === 0 || seq === o.count - 1);
    const head = wantsReceipt ? `${headTemplate}receipt:${seq}\n\n` : `${headTemplate}\n`;
    const frame = Buffer.allocUnsafe(Buffer.byteLength(head) + size + 1);
    const bodyAt = frame.write(head, 0, 'latin1');
    stampBody(frame.subarray(bodyAt), o.producer, seq, nowMicros());
    pad.copy(frame, bodyAt + MIN_BODY);
    frame[frame.length - 1] = 0;
    const receipt = wantsReceipt ? new Promise<void>((resolve) => (waitingReceipt = (id) => id === String(seq) && resolve())) : null;
    const drained = conn.write(frame);
    if (drained) await drained;
    if (receipt) {
      await receipt;
      if (o.progress) o.progress.receipted = seq + 1;
    }
  }
}

export interface ConsumeOptions {
  destination: string;
  ack: 'auto' | 'client' | 'client-individual';
  prefetch?: number;
  id?: string;
}

/** Checks exactly-once delivery of the messages of several producers. */
export class DeliveryLedger {
  private readonly seen: Uint8Array[];
  received = 0;
  duplicates = 0;
  readonly latenciesMicros: number[] = [];

  constructor(
    producers: number,
    private readonly perProducer: number,
    private readonly recordLatency = false,
  ) {
    this.seen = Array.from({ length: producers }, () => new Uint8Array(perProducer));
  }

  record(body: Buffer): void {
    if (body.length < STAMP) {
      this.duplicates++;
      return;
    }
    const producer = digits(body, 0, 2);
    const seq = digits(body, 3, 13);
    const row = this.seen[producer];
    if (!row || seq >= this.perProducer) {
      this.duplicates++;
      return;
    }
    if (row[seq]) this.duplicates++;
    else {
      row[seq] = 1;
      this.received++;
    }
    if (this.recordLatency) this.latenciesMicros.push(nowMicros() - digits(body, 14, 30));
  }

  get expected(): number {
    return this.seen.length * this.perProducer;
  }

  get missing(): number {
    return this.expected - this.received;
  }
}

/** Subscribes and feeds every MESSAGE body to `ledger`, acking as the mode requires. */
export async function consume(conn: LoadConnection, o: ConsumeOptions, onMessage: (body: Buffer) => void): Promise<void> {
  const id = o.id ?? '1';
  const prefetch = o.prefetch !== undefined ? `activemq.prefetchSize:${o.prefetch}\n` : '';
  let subscribed: (() => void) | null = null;
  conn.onFrame((f) => {
    if (f.command === 'MESSAGE') {
      onMessage(f.body);
      if (o.ack !== 'auto') {
        const ack = f.header('ack');
        void conn.write(ack !== undefined ? `ACK\nid:${ack}\n\n\0` : `ACK\nmessage-id:${f.header('message-id')}\nsubscription:${id}\n\n\0`);
      }
    } else if (f.command === 'RECEIPT') subscribed?.();
    else if (f.command === 'ERROR') throw new Error(`broker error: ${f.header('message')}`);
  });
  await new Promise<void>((resolve) => {
    subscribed = resolve;
    void conn.write(`SUBSCRIBE\nid:${id}\ndestination:${o.destination}\nack:${o.ack}\n${prefetch}receipt:sub-${id}\n\n\0`);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

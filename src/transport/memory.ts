import { withHeadAndBody } from '../stomp/index.js';
import type { Link, LinkHandlers } from './link.js';

/**
 * One end of an in-process byte pipe: what one end writes, the other reads on
 * a later turn of the event loop, as over a socket. For tests and embedding
 * (`broker.handle(link)`): a broker and a client in one process without TCP.
 */
class MemoryLink implements Link {
  readonly scheme = 'memory';
  peer!: MemoryLink;
  private handlers: LinkHandlers | null = null;
  private inbox: Buffer[] = [];
  private inboxBytes = 0;
  private scheduled = false;
  private paused = false;
  private closed = false;
  private closing = false;

  constructor(readonly remoteAddress: string) {}

  get backlog(): number {
    return this.peer.inboxBytes;
  }

  start(handlers: LinkHandlers): void {
    this.handlers = handlers;
    this.schedule();
  }

  write(data: Buffer): void {
    if (this.closed || this.closing) return;
    this.peer.receive(data);
  }

  writeFrame(head: string, body: Buffer): void {
    this.write(withHeadAndBody(head, body));
  }

  private receive(data: Buffer): void {
    if (this.closed) return;
    this.inbox.push(data);
    this.inboxBytes += data.length;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  /** Hands what arrived to the reader, then closes if the writer ended and everything was read. */
  private deliver(): void {
    this.scheduled = false;
    const h = this.handlers;
    if (!h || this.closed) return;
    const hadBacklog = this.inboxBytes > 0;
    while (this.inbox.length > 0 && !this.paused) {
      const chunk = this.inbox.shift()!;
      this.inboxBytes -= chunk.length;
      h.data(chunk);
      if (this.closed) return;
    }
    if (hadBacklog && this.inboxBytes === 0) this.peer.handlers?.drain();
    if (this.inbox.length === 0 && this.peer.closing) this.close();
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    this.schedule();
  }

  end(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.peer.schedule();
  }

  destroy(): void {
    this.close();
    this.peer.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox = [];
    this.inboxBytes = 0;
    this.handlers?.closed();
    if (!this.peer.closed) this.peer.close();
  }
}

/** Two connected links: hand one to `broker.handle()`, drive the other as the client. */
export function linkPair(name = 'memory'): [Link, Link] {
  const brokerEnd = new MemoryLink(`${name}://client`);
  const clientEnd = new MemoryLink(`${name}://broker`);
  brokerEnd.peer = clientEnd;
  clientEnd.peer = brokerEnd;
  return [brokerEnd, clientEnd];
}

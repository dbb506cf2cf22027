import type { BrokerMessage } from '../core/message.js';
import { destinationLine, messageFrameHead } from './message-frame.js';

/** What a browser needs from its connection. */
export interface BrowserOwner {
  readonly writable: boolean;
  readonly escape: boolean;
  writeMessageFrame(head: string, body: Buffer): void;
}

/**
 * A queue browser (SUBSCRIBE with `browser:true`, ActiveMQ's QueueBrowser):
 * the messages the queue holds when it subscribes, in dispatch order,
 * neither consumed nor locked (they stay for real consumers), then a MESSAGE
 * with `browser:end` (ActiveMQ's marker) after which it sends nothing more.
 */
export class QueueBrowser {
  private next = 0;
  private finished = false;
  private readonly subscriptionLine: string;

  constructor(
    readonly id: string,
    /** Unique within the connection, as a subscription's. */
    readonly index: number,
    private readonly destinationName: string,
    private readonly snapshot: readonly BrokerMessage[],
    private readonly owner: BrowserOwner,
    subscriptionLine: string,
  ) {
    this.subscriptionLine = subscriptionLine;
  }

  /** Sends what it can now; called again when the connection drains. */
  resume(): void {
    const escape = this.owner.escape;
    while (!this.finished && this.next < this.snapshot.length && this.owner.writable) {
      const m = this.snapshot[this.next++];
      this.owner.writeMessageFrame(messageFrameHead(m, { subscriptionLine: this.subscriptionLine, destinationLine: destinationLine(m, escape), ackId: '', escape }), m.body);
    }
    if (this.finished || this.next < this.snapshot.length) return;
    this.finished = true;
    const end = `MESSAGE\n${this.subscriptionLine}browser:end\ndestination:${this.destinationName}\nmessage-id:0\ncontent-length:0\n\n`;
    this.owner.writeMessageFrame(end, Buffer.alloc(0));
  }

  /** The browse ends early (UNSUBSCRIBE, connection closed). */
  close(): void {
    this.finished = true;
  }
}

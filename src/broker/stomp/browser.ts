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
 * the messages the queue holds when it subscribes, in dispatch order (those
 * in the store only are read page by page as the client takes them),
 * neither consumed nor locked (they stay for real consumers), then a MESSAGE
 * with `browser:end` (ActiveMQ's marker) after which it sends nothing more.
 */
export class QueueBrowser {
  private finished = false;
  private pumping = false;
  private readonly subscriptionLine: string;

  constructor(
    readonly id: string,
    /** Unique within the connection, as a subscription's. */
    readonly index: number,
    private readonly destinationName: string,
    private readonly messages: AsyncIterator<BrokerMessage>,
    private readonly owner: BrowserOwner,
    subscriptionLine: string,
  ) {
    this.subscriptionLine = subscriptionLine;
  }

  /** Sends what it can now; called again when the connection drains. */
  resume(): void {
    if (this.pumping || this.finished) return;
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
    });
  }

  private async pump(): Promise<void> {
    const escape = this.owner.escape;
    while (!this.finished && this.owner.writable) {
      // A store that cannot be read ends the browse early; the consumers' page-in reports the failure.
      const next = await this.messages.next().catch(() => ({ done: true as const, value: undefined }));
      if (this.finished) return;
      if (next.done) {
        this.finished = true;
        const end = `MESSAGE\n${this.subscriptionLine}browser:end\ndestination:${this.destinationName}\nmessage-id:0\ncontent-length:0\n\n`;
        this.owner.writeMessageFrame(end, Buffer.alloc(0));
        return;
      }
      const m = next.value;
      this.owner.writeMessageFrame(messageFrameHead(m, { subscriptionLine: this.subscriptionLine, destinationLine: destinationLine(m, escape), ackId: '', escape }), m.body);
    }
  }

  /** The browse ends early (UNSUBSCRIBE, connection closed). */
  close(): void {
    this.finished = true;
    void this.messages.return?.();
  }
}

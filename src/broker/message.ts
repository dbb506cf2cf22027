import { escapeHeaderValue, type Headers } from '../stomp/index.js';
import { type Destination, stompName } from './destination.js';
import { encodeMeta, META_HEADER } from './network-protocol.js';

/** JMS priority used when a SEND gives none (JMS default, as ActiveMQ). */
export const DEFAULT_PRIORITY = 4;

export interface MessageInit {
  id: string;
  destination: Destination;
  headers: Headers;
  body: Buffer;
  persistent: boolean;
  priority: number;
  expiration: number;
  timestamp: number;
  /** Connection that produced it (for noLocal); empty for recovered or forwarded messages. */
  producerId?: string;
  brokerPath?: readonly string[];
  redeliveryCounter?: number;
  /** Broker-set headers such as `original-destination` on DLQ'd messages. */
  brokerHeaders?: Headers;
  /** The body shares a buffer on purpose (recovered from a journal segment read whole): never copy it. */
  bodyShared?: boolean;
}

/**
 * A message inside the broker. Immutable but for the redelivery counter; a
 * topic message is shared by every subscription it reached, so redelivery of a
 * shared message works on a copy (`forRedelivery`).
 */
export class BrokerMessage {
  readonly id: string;
  readonly destination: Destination;
  readonly headers: Headers;
  private bodyBytes: Buffer;
  private compacted = false;
  readonly persistent: boolean;
  readonly priority: number;
  readonly expiration: number;
  readonly timestamp: number;
  readonly producerId: string;
  readonly brokerPath: readonly string[];
  readonly brokerHeaders: Headers | undefined;
  redeliveryCounter: number;
  /** When it reached this broker (ms): network replay waits a little after it. */
  readonly arrivedAt = Date.now();
  /** Set once the message has been handed to more than one subscription. */
  shared = false;
  /** Until `until`, only the network consumer of `broker` may take it (see policy.networkRedeliveryAffinity). */
  affinity: { broker: string; until: number } | null = null;
  private cachedHead: string | undefined;
  private cachedHead10: string | undefined;
  private cachedUserHead: string | undefined;
  private cachedDestinationLine: string | undefined;
  private cachedMetaLine: string | undefined;

  constructor(init: MessageInit) {
    this.id = init.id;
    this.destination = init.destination;
    this.headers = init.headers;
    this.bodyBytes = init.body;
    this.compacted = init.bodyShared ?? false;
    this.persistent = init.persistent;
    this.priority = init.priority;
    this.expiration = init.expiration;
    this.timestamp = init.timestamp;
    this.producerId = init.producerId ?? '';
    this.brokerPath = init.brokerPath ?? [];
    this.redeliveryCounter = init.redeliveryCounter ?? 0;
    this.brokerHeaders = init.brokerHeaders;
  }

  get body(): Buffer {
    return this.bodyBytes;
  }

  /**
   * Called when the message is kept rather than passed straight on: a body
   * that is a small view into a larger read buffer is copied, so the buffer
   * can be freed.
   */
  compact(): void {
    if (this.compacted) return;
    this.compacted = true;
    const b = this.bodyBytes;
    if (b.length * 2 < b.buffer.byteLength) {
      const copy = Buffer.allocUnsafe(b.length);
      b.copy(copy);
      this.bodyBytes = copy;
    }
  }

  get groupId(): string | undefined {
    return this.headers.JMSXGroupID;
  }

  /** Approximate bytes held in memory, for memory limits. */
  get size(): number {
    return this.body.length + 256;
  }

  isExpired(now: number): boolean {
    return this.expiration > 0 && now >= this.expiration;
  }

  toInit(): MessageInit {
    return {
      id: this.id,
      destination: this.destination,
      headers: this.headers,
      body: this.body,
      persistent: this.persistent,
      priority: this.priority,
      expiration: this.expiration,
      timestamp: this.timestamp,
      producerId: this.producerId,
      brokerPath: this.brokerPath,
      redeliveryCounter: this.redeliveryCounter,
      brokerHeaders: this.brokerHeaders,
    };
  }

  with(changes: Partial<MessageInit>): BrokerMessage {
    return new BrokerMessage({ ...this.toInit(), ...changes });
  }

  /** The message to put back on a subscription's list after a failed delivery. */
  forRedelivery(): BrokerMessage {
    const m = this.shared ? this.with({}) : this;
    m.redeliveryCounter++;
    return m;
  }

  /**
   * The MESSAGE frame's header lines that are the same for every delivery:
   * message-id, timestamp, expires, priority, persistent, broker headers and
   * the user's headers, escaped for 1.1+ or not (1.0).
   */
  head(escape: boolean): string {
    if (escape && this.cachedHead !== undefined) return this.cachedHead;
    if (!escape && this.cachedHead10 !== undefined) return this.cachedHead10;
    const enc = escape ? escapeHeaderValue : (v: string) => v;
    let head = `message-id:${enc(this.id)}\ntimestamp:${this.timestamp}\nexpires:${this.expiration}\npriority:${this.priority}\n`;
    if (this.persistent) head += 'persistent:true\n';
    head += escape ? this.userHead() : this.plainUserHead(enc);
    if (escape) this.cachedHead = head;
    else this.cachedHead10 = head;
    return head;
  }

  /** Broker headers and the sender's headers, escaped (1.1+). */
  userHead(): string {
    if (this.cachedUserHead === undefined) this.cachedUserHead = this.plainUserHead(escapeHeaderValue);
    return this.cachedUserHead;
  }

  private plainUserHead(enc: (v: string) => string): string {
    let head = '';
    if (this.brokerHeaders) for (const k in this.brokerHeaders) head += `${enc(k)}:${enc(this.brokerHeaders[k])}\n`;
    for (const k in this.headers) head += `${enc(k)}:${enc(this.headers[k])}\n`;
    return head;
  }

  get stompDestination(): string {
    return stompName(this.destination);
  }

  /** `destination:/queue/NAME\n`, escaped for 1.1+ or not. */
  destinationLine(escape: boolean): string {
    const name = stompName(this.destination);
    if (!escape) return `destination:${name}\n`;
    if (this.cachedDestinationLine === undefined) this.cachedDestinationLine = `destination:${escapeHeaderValue(name)}\n`;
    return this.cachedDestinationLine;
  }

  /** The bridge's meta header line for this message leaving broker `via`: always this broker, so made once. */
  metaLine(via: string): string {
    if (this.cachedMetaLine === undefined) this.cachedMetaLine = `${META_HEADER}:${escapeHeaderValue(encodeMeta(this, via))}\n`;
    return this.cachedMetaLine;
  }
}

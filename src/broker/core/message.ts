import type { Destination } from './destination.js';

/** Header names to values, without a prototype (a header may be named `__proto__`). */
export type Headers = Record<string, string>;

/** The message property by which a producer makes its re-sends idempotent (Artemis' name). */
export const DUPLICATE_ID_HEADER = '_AMQ_DUPL_ID';

/** What a message costs in memory beyond its body (headers, the object), for memory limits. */
export const MESSAGE_OVERHEAD = 256;

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
  /** Where the store keeps it (persistent messages, once stored): what removes and dispatch marks name. */
  position: number | undefined = undefined;
  /** Read back from the temp store, where it had spilled from memory: `position` is there. */
  spilled = false;
  /** Set once the message has been handed to more than one subscription. */
  shared = false;
  /** Until `until`, only consumers of affinity `key` may take it (see Consumer.affinity). */
  affinity: { key: string; until: number } | null = null;
  /**
   * Kept for a wire protocol (the STOMP frame assembler) so that a message
   * delivered many times is encoded once. The core never reads it.
   */
  wireCache: unknown = undefined;

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

  /** The producer's duplicate-detection id (Artemis' `_AMQ_DUPL_ID`): a re-send with the same id is dropped. */
  get duplicateId(): string | undefined {
    return this.headers[DUPLICATE_ID_HEADER];
  }

  /** Approximate bytes held in memory, for memory limits. */
  get size(): number {
    return this.body.length + MESSAGE_OVERHEAD;
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
    // The copy stands for the same stored record.
    m.position = this.position;
    m.spilled = this.spilled;
    m.redeliveryCounter++;
    return m;
  }
}

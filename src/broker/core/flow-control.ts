import type { Logger } from '../../config/logger.js';
import type { MessageStore } from '../../store/types.js';
import { type Destination, qualifiedName } from './destination.js';
import type { PolicyMap } from './policy-map.js';
import type { SystemUsage, Usage } from './usage.js';

/** Flow control's link in ActiveMQ's messages. */
const PFC_LINK = 'See http://activemq.apache.org/producer-flow-control.html for more info';

/** Why a destination takes no more messages now, in ActiveMQ's words. */
export interface Refusal {
  /** The usage that is full: producers wait until it has room. */
  readonly usage: Usage;
  /** For the producer (ERROR frame) and the log. */
  readonly message: string;
}

export interface FlowControlOptions {
  usage: SystemUsage;
  policies: PolicyMap;
  store: MessageStore;
  logger: Logger;
  /** Bytes of a destination's messages in memory. */
  memoryOf: (dest: Destination) => number;
}

/**
 * Producer flow control (ActiveMQ's, with its names and messages): whether
 * a destination takes a message now, given the broker's usage and the
 * destination's policy; and the memory that open transactions hold.
 */
export class FlowControl {
  /** Destinations whose producers are held now: flow control is logged once as it starts. */
  private readonly blocked = new Set<string>();
  /** Bytes of messages held by open transactions, all connections together. */
  private transactionBytes = 0;

  constructor(private readonly o: FlowControlOptions) {}

  /**
   * Producer flow control: why a message to `dest` cannot be taken now, or
   * null. A persistent queue message needs room in the store (it waits there
   * if memory is short); anything held in memory needs room in memory (the
   * broker's and the destination's), or in the temp store when the
   * destination's producers are not flow-controlled. Logged once as a
   * destination starts holding producers back, in ActiveMQ's words.
   */
  admit(dest: Destination, persistent: boolean, producer: string): Refusal | null {
    const refusal = this.refusal(dest, persistent, producer);
    if (!refusal) {
      if (this.blocked.size > 0) this.blocked.delete(dest.key);
      return null;
    }
    if (!this.blocked.has(dest.key)) {
      this.blocked.add(dest.key);
      this.o.logger.warn({ destination: qualifiedName(dest), usage: refusal.usage.name, percent: refusal.usage.percent }, `${describeUsage(refusal.usage)}: ${refusal.message}`);
    }
    return refusal;
  }

  /** Whether `dest` is holding producers back now (since a send to it was last refused). */
  isHolding(dest: Destination): boolean {
    return this.blocked.has(dest.key);
  }

  private refusal(dest: Destination, persistent: boolean, producer: string): Refusal | null {
    const inStore = persistent && this.o.store.pagesOut && !dest.temporary;
    const store = this.o.usage.store;
    if (inStore && store.isFull()) {
      return { usage: store, message: `Persistent store is Full, 100% of ${store.effectiveLimit}. Stopping producer (${producer}) to prevent flooding ${qualifiedName(dest)}. ${PFC_LINK}` };
    }
    if (inStore && dest.type === 'queue') return null;
    const limits = this.o.policies.limitsFor(dest);
    const memory = this.o.usage.memory;
    if (!memory.isFull() && (limits.memoryLimit <= 0 || this.o.memoryOf(dest) < limits.memoryLimit)) return null;
    if (limits.producerFlowControl) return { usage: memory, message: `Usage Manager Memory Limit reached on ${qualifiedName(dest)}. ${PFC_LINK}` };
    const temp = this.o.usage.temp;
    if (!temp.isFull()) return null;
    return { usage: temp, message: `Temp Store is Full (${temp.percent}% of ${temp.effectiveLimit}). Stopping producer (${producer}) to prevent flooding ${qualifiedName(dest)}. ${PFC_LINK}` };
  }

  /**
   * Messages sent in open transactions wait in memory for COMMIT: they count
   * against the memory limit, and together may take at most half of it
   * (false: this one does not fit, the transaction cannot grow).
   */
  holdForTransaction(bytes: number): boolean {
    if (bytes > 0 && this.transactionBytes + bytes > this.o.usage.memory.limit / 2) return false;
    this.transactionBytes += bytes;
    this.o.usage.memory.add(bytes);
    return true;
  }

  /** What `holdForTransaction` took, given back (the transaction ended). */
  releaseTransaction(bytes: number): void {
    this.transactionBytes -= bytes;
    this.o.usage.memory.add(-bytes);
  }
}

/** ActiveMQ's Usage.toString(), which starts its flow-control WARN lines. */
function describeUsage(u: Usage): string {
  return `Usage(${u.name}) percentUsage=${u.percent}%, usage=${u.used}, limit=${u.effectiveLimit}`;
}

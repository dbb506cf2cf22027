import { Deque } from './deque.js';
import type { BrokerMessage } from './message.js';

/**
 * Messages waiting for a consumer, in dispatch order. With `prioritized`
 * (ActiveMQ's `prioritizedMessages`) higher JMS priorities go first, FIFO
 * within a priority; otherwise plain FIFO.
 */
export class PendingList {
  private readonly levels: Deque<BrokerMessage>[];
  private bytes = 0;

  constructor(private readonly prioritized: boolean) {
    this.levels = Array.from({ length: prioritized ? 10 : 1 }, () => new Deque<BrokerMessage>());
  }

  get size(): number {
    let n = 0;
    for (const l of this.levels) n += l.size;
    return n;
  }

  /** Bytes of the messages held (approximate). */
  get memory(): number {
    return this.bytes;
  }

  private level(m: BrokerMessage): Deque<BrokerMessage> {
    return this.prioritized ? this.levels[9 - Math.min(9, Math.max(0, m.priority))] : this.levels[0];
  }

  push(m: BrokerMessage): void {
    m.compact();
    this.level(m).push(m);
    this.bytes += m.size;
  }

  /** Puts a message back in front of those of its priority (redelivery). */
  unshift(m: BrokerMessage): void {
    m.compact();
    this.level(m).unshift(m);
    this.bytes += m.size;
  }

  shift(): BrokerMessage | undefined {
    for (const l of this.levels) {
      const m = l.shift();
      if (m) {
        this.bytes -= m.size;
        return m;
      }
    }
    return undefined;
  }

  /** Visits messages in dispatch order; `visit` returns true to take one out, null to stop. */
  scan(visit: (m: BrokerMessage) => boolean | null): void {
    let stopped = false;
    for (const l of this.levels) {
      l.scan((m) => {
        const r = visit(m);
        if (r === null) stopped = true;
        else if (r) this.bytes -= m.size;
        return r;
      });
      if (stopped) return;
    }
  }

  remove(m: BrokerMessage): boolean {
    const removed = this.level(m).remove(m);
    if (removed) this.bytes -= m.size;
    return removed;
  }

  toArray(): BrokerMessage[] {
    return this.levels.flatMap((l) => l.toArray());
  }

  clear(): BrokerMessage[] {
    const all = this.toArray();
    for (const l of this.levels) l.clear();
    this.bytes = 0;
    return all;
  }
}

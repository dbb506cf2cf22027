import { DuplicateWindows } from './duplicate-windows.js';
import { isQueueHolder, subscriptionHolder } from './holders.js';
import type { CommitCallback, DurableSubscriptionRecord, MessageStore, PagedMessage, RecoveredState, StoredBacklog, StoredMessage, StoreOp, StoreSpace, WriteCallback } from './types.js';

interface Kept {
  destination: string;
  message: StoredMessage;
  dispatched: boolean;
  dispatchedTo?: string | undefined;
}

/**
 * Keeps everything in memory: what a broker with `persistent=false` uses, and
 * the reference the journal store is tested against. A second `recover()` on
 * the same instance returns the state as a restarted broker would see it.
 * Positions are a counter; holders are queue destination keys and
 * `subscriptionHolder(id)`, as in the journal store.
 */
export class MemoryStore implements MessageStore {
  readonly pagesOut = false;
  private readonly destinations = new Set<string>();
  private readonly holders = new Map<string, Map<number, Kept>>();
  private readonly subscriptions = new Map<string, DurableSubscriptionRecord>();
  private readonly duplicates = new DuplicateWindows();
  private operations = 0;
  private nextPosition = 1;

  async recover(): Promise<RecoveredState> {
    const queues = new Map<string, number>();
    for (const [holder, kept] of this.holders) if (isQueueHolder(holder) && kept.size > 0) queues.set(holder, kept.size);
    return {
      destinations: [...new Set([...this.destinations, ...queues.keys()])],
      queues,
      subscriptions: [...this.subscriptions.values()].map((record) => ({ record, pending: this.holders.get(subscriptionHolder(record.id))?.size ?? 0 })),
      duplicateIds: this.duplicates.toMap(),
      operations: this.operations,
      seconds: 0,
    };
  }

  write(op: StoreOp, done?: WriteCallback): void {
    const position = this.apply(op);
    done?.(undefined, position);
  }

  commit(_transactionId: string, ops: readonly StoreOp[], done?: CommitCallback): void {
    const positions = ops.map((op) => this.apply(op));
    done?.(undefined, positions);
  }

  backlog(holder: string): StoredBacklog {
    const kept = () => this.holders.get(holder);
    return {
      get size() {
        return kept()?.size ?? 0;
      },
      get last() {
        let last = 0;
        for (const p of kept()?.keys() ?? []) last = p;
        return last;
      },
      countAfter: (position) => [...(kept()?.keys() ?? [])].filter((p) => p > position).length,
      read: async (after, upTo, max) => {
        const out: PagedMessage[] = [];
        for (const [p, k] of kept() ?? []) {
          if (p <= after) continue;
          if (p > upTo || out.length >= max) break;
          const message = k.dispatched ? { ...k.message, redeliveryCounter: k.message.redeliveryCounter + 1, dispatchedTo: k.dispatchedTo } : k.message;
          out.push({ destination: k.destination, position: p, message });
        }
        return out;
      },
    };
  }

  space(): StoreSpace {
    return { used: 0, available: Infinity, diskFull: false };
  }

  async reclaim(): Promise<void> {}

  async close(): Promise<void> {}

  describe(): Record<string, unknown> {
    return { type: 'memory' };
  }

  private holderOf(op: { destination: string; subscription?: string | undefined }): Map<number, Kept> | undefined {
    return this.holders.get(op.subscription !== undefined ? subscriptionHolder(op.subscription) : op.destination);
  }

  /** Position of the message named by id (the journal's older records do so; the memory store is asked either way). */
  private find(holder: Map<number, Kept> | undefined, messageId: string, position: number | undefined): number | undefined {
    if (!holder) return undefined;
    if (position !== undefined) return holder.has(position) ? position : undefined;
    for (const [p, k] of holder) if (k.message.id === messageId) return p;
    return undefined;
  }

  private apply(op: StoreOp): number | undefined {
    this.operations++;
    switch (op.op) {
      case 'add': {
        if (op.duplicateId !== undefined) this.duplicates.remember(op.destination, op.duplicateId);
        const position = this.nextPosition++;
        const keys = op.subscriptions ? op.subscriptions.map(subscriptionHolder) : [op.destination];
        for (const key of keys) {
          let h = this.holders.get(key);
          if (!h) this.holders.set(key, (h = new Map()));
          // A snapshot of the fields, as a journal would keep them.
          h.set(position, { destination: op.destination, message: { ...op.message, body: op.message.body }, dispatched: false });
        }
        return position;
      }
      case 'remove': {
        const h = this.holderOf(op);
        const p = this.find(h, op.messageId, op.position);
        if (p !== undefined) h!.delete(p);
        return undefined;
      }
      case 'dispatched': {
        const h = this.holderOf(op);
        const p = this.find(h, op.messageId, op.position);
        const k = p !== undefined ? h!.get(p) : undefined;
        if (k) {
          k.dispatched = true;
          k.dispatchedTo = op.consumer;
        }
        return undefined;
      }
      case 'purge': {
        const h = this.holders.get(op.destination);
        for (const p of h?.keys() ?? []) if (p > op.after && p <= op.upTo) h!.delete(p);
        return undefined;
      }
      case 'add-subscription':
        if (!this.subscriptions.has(op.subscription.id)) this.subscriptions.set(op.subscription.id, op.subscription);
        return undefined;
      case 'remove-subscription':
        this.subscriptions.delete(op.id);
        this.holders.delete(subscriptionHolder(op.id));
        return undefined;
      case 'add-destination':
        this.destinations.add(op.destination);
        return undefined;
      case 'remove-destination':
        this.destinations.delete(op.destination);
        this.holders.delete(op.destination);
        this.duplicates.forget(op.destination);
        return undefined;
    }
  }
}

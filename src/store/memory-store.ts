import { DuplicateWindows } from './duplicate-windows.js';
import type { DurableSubscriptionRecord, MessageStore, RecoveredState, StoredMessage, StoreOp, WriteCallback } from './types.js';

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
 */
export class MemoryStore implements MessageStore {
  private readonly destinations = new Set<string>();
  private readonly queues = new Map<string, Map<string, Kept>>();
  private readonly subscriptions = new Map<string, { record: DurableSubscriptionRecord; pending: Map<string, Kept> }>();
  private readonly duplicates = new DuplicateWindows();
  private operations = 0;

  async recover(): Promise<RecoveredState> {
    const recovered = (k: Kept): StoredMessage => ({ ...k.message, redeliveryCounter: k.message.redeliveryCounter + (k.dispatched ? 1 : 0), dispatchedTo: k.dispatchedTo });
    return {
      destinations: [...this.destinations],
      queues: new Map([...this.queues].map(([dest, msgs]) => [dest, [...msgs.values()].map(recovered)])),
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        record: s.record,
        pending: [...s.pending.values()].map((k) => ({ destination: k.destination, message: recovered(k) })),
      })),
      duplicateIds: this.duplicates.toMap(),
      operations: this.operations,
      seconds: 0,
    };
  }

  write(op: StoreOp, done?: WriteCallback): void {
    this.apply(op);
    done?.();
  }

  commit(_transactionId: string, ops: readonly StoreOp[], done?: WriteCallback): void {
    for (const op of ops) this.apply(op);
    done?.();
  }

  async close(): Promise<void> {}

  describe(): Record<string, unknown> {
    return { type: 'memory' };
  }

  private find(destination: string, messageId: string, subscription: string | undefined): Kept | undefined {
    return subscription !== undefined ? this.subscriptions.get(subscription)?.pending.get(messageId) : this.queues.get(destination)?.get(messageId);
  }

  private apply(op: StoreOp): void {
    this.operations++;
    switch (op.op) {
      case 'add': {
        if (op.duplicateId !== undefined) this.duplicates.remember(op.destination, op.duplicateId);
        // A snapshot of the fields, as a journal would keep them.
        const kept = (): Kept => ({ destination: op.destination, message: { ...op.message, body: op.message.body }, dispatched: false });
        if (op.subscriptions) {
          for (const id of op.subscriptions) this.subscriptions.get(id)?.pending.set(op.message.id, kept());
        } else {
          let q = this.queues.get(op.destination);
          if (!q) this.queues.set(op.destination, (q = new Map()));
          if (!q.has(op.message.id)) q.set(op.message.id, kept());
        }
        break;
      }
      case 'remove':
        if (op.subscription !== undefined) this.subscriptions.get(op.subscription)?.pending.delete(op.messageId);
        else this.queues.get(op.destination)?.delete(op.messageId);
        break;
      case 'dispatched': {
        const k = this.find(op.destination, op.messageId, op.subscription);
        if (k) {
          k.dispatched = true;
          k.dispatchedTo = op.consumer;
        }
        break;
      }
      case 'add-subscription':
        if (!this.subscriptions.has(op.subscription.id)) this.subscriptions.set(op.subscription.id, { record: op.subscription, pending: new Map() });
        break;
      case 'remove-subscription':
        this.subscriptions.delete(op.id);
        break;
      case 'add-destination':
        this.destinations.add(op.destination);
        break;
      case 'remove-destination':
        this.destinations.delete(op.destination);
        this.queues.delete(op.destination);
        this.duplicates.forget(op.destination);
        break;
    }
  }
}

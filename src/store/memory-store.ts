import type { DurableSubscriptionRecord, MessageStore, RecoveredState, StoredMessage, StoreOp, WriteCallback } from './types.js';

/**
 * Keeps everything in memory: what a broker with `persistent=false` uses, and
 * the reference the journal store is tested against. A second `recover()` on
 * the same instance returns the state as a restarted broker would see it.
 */
export class MemoryStore implements MessageStore {
  private readonly destinations = new Set<string>();
  private readonly queues = new Map<string, Map<string, StoredMessage>>();
  private readonly subscriptions = new Map<string, { record: DurableSubscriptionRecord; pending: Map<string, { destination: string; message: StoredMessage }> }>();
  private operations = 0;

  async recover(): Promise<RecoveredState> {
    return {
      destinations: [...this.destinations],
      queues: new Map([...this.queues].map(([dest, msgs]) => [dest, [...msgs.values()]])),
      subscriptions: [...this.subscriptions.values()].map((s) => ({ record: s.record, pending: [...s.pending.values()] })),
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

  private apply(op: StoreOp): void {
    this.operations++;
    switch (op.op) {
      case 'add':
        if (op.subscriptions) {
          for (const key of op.subscriptions) this.subscriptions.get(key)?.pending.set(op.message.id, { destination: op.destination, message: op.message });
        } else {
          let q = this.queues.get(op.destination);
          if (!q) this.queues.set(op.destination, (q = new Map()));
          q.set(op.message.id, op.message);
        }
        break;
      case 'remove':
        if (op.subscription !== undefined) this.subscriptions.get(op.subscription)?.pending.delete(op.messageId);
        else this.queues.get(op.destination)?.delete(op.messageId);
        break;
      case 'add-subscription': {
        const existing = this.subscriptions.get(op.subscription.key);
        this.subscriptions.set(op.subscription.key, { record: op.subscription, pending: existing?.pending ?? new Map() });
        break;
      }
      case 'remove-subscription':
        this.subscriptions.delete(op.key);
        break;
      case 'add-destination':
        this.destinations.add(op.destination);
        break;
      case 'remove-destination':
        this.destinations.delete(op.destination);
        this.queues.delete(op.destination);
        break;
    }
  }
}

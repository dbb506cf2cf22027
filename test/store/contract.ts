/** The store contract: every MessageStore must pass these (in the manner of aedes-persistence's abstract tests). */
import { describe, expect, it } from 'vitest';
import type { DurableSubscriptionRecord, MessageStore, StoredMessage, StoreOp } from '../../src/store/types.js';

export interface StoreHarness {
  store: MessageStore;
  /** The store as a restarted broker would open it. */
  reopen(): Promise<MessageStore>;
}

export function message(id: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id,
    headers: Object.assign(Object.create(null), { 'content-type': 'text/plain', 'x-unicode': 'ü✓' }),
    body: Buffer.from(`body of ${id}`),
    priority: 4,
    expiration: 0,
    timestamp: 1_700_000_000_000,
    brokerPath: [],
    redeliveryCounter: 0,
    ...extra,
  };
}

export function subscription(id: string, key = 'client:sub', destination = 'topic://news'): DurableSubscriptionRecord {
  const [clientId, subscriptionName] = key.split(':');
  return { id, key, clientId, subscriptionName, destination, selector: "color = 'red'", noLocal: false };
}

export function write(store: MessageStore, op: StoreOp): Promise<void> {
  return new Promise((resolve, reject) => store.write(op, (err) => (err ? reject(err) : resolve())));
}

export function storeContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`${name}: store contract`, () => {
    it('starts empty', async () => {
      const { store } = await open();
      const state = await store.recover();
      expect(state.destinations).toEqual([]);
      expect(state.queues.size).toBe(0);
      expect(state.subscriptions).toEqual([]);
      await store.close();
    });

    it('keeps queue messages in order with all their fields, minus the removed ones', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add-destination', destination: 'queue://q' });
      const m2 = message('m2', { priority: 9, expiration: 1_900_000_000_000, brokerPath: ['b1', 'b2'], brokerHeaders: { 'original-destination': '/queue/x' }, body: Buffer.from([0, 255, 0]) });
      for (const m of [message('m1'), m2, message('m3'), message('m4')]) await write(h.store, { op: 'add', destination: 'queue://q', message: m });
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm1' });
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm3' });
      const state = await (await h.reopen()).recover();
      expect(state.destinations).toContain('queue://q');
      const recovered = [...state.queues.get('queue://q')!];
      expect(recovered.map((m) => m.id)).toEqual(['m2', 'm4']);
      const r2 = recovered[0];
      expect({ ...r2.headers }).toEqual({ 'content-type': 'text/plain', 'x-unicode': 'ü✓' });
      expect([...r2.body]).toEqual([0, 255, 0]);
      expect([r2.priority, r2.expiration, r2.timestamp, r2.brokerPath, r2.redeliveryCounter]).toEqual([9, 1_900_000_000_000, 1_700_000_000_000, ['b1', 'b2'], 0]);
      expect({ ...r2.brokerHeaders }).toEqual({ 'original-destination': '/queue/x' });
    });

    it('ignores a second add of the same message id', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1') });
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1', { body: Buffer.from('other') }) });
      const state = await (await h.reopen()).recover();
      expect([...state.queues.get('queue://q')!].map((m) => m.body.toString())).toEqual(['body of m1']);
    });

    it('brings back a dispatched, unacknowledged message with one more redelivery', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1') });
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m2') });
      await write(h.store, { op: 'dispatched', destination: 'queue://q', messageId: 'm1' });
      const state = await (await h.reopen()).recover();
      expect([...state.queues.get('queue://q')!].map((m) => [m.id, m.redeliveryCounter])).toEqual([
        ['m1', 1],
        ['m2', 0],
      ]);
    });

    it('keeps durable subscriptions and, per subscription, the topic messages it has not acknowledged', async () => {
      const h = await open();
      await h.store.recover();
      const a = subscription('sub-a', 'c:a');
      const b = subscription('sub-b', 'c:b');
      await write(h.store, { op: 'add-subscription', subscription: a });
      await write(h.store, { op: 'add-subscription', subscription: b });
      await write(h.store, { op: 'add', destination: 'topic://news', message: message('t1'), subscriptions: ['sub-a', 'sub-b'] });
      await write(h.store, { op: 'add', destination: 'topic://news', message: message('t2'), subscriptions: ['sub-a'] });
      await write(h.store, { op: 'remove', destination: 'topic://news', messageId: 't1', subscription: 'sub-a' });
      await write(h.store, { op: 'dispatched', destination: 'topic://news', messageId: 't1', subscription: 'sub-b' });
      const state = await (await h.reopen()).recover();
      const byKey = new Map(state.subscriptions.map((s) => [s.record.key, s]));
      expect(byKey.get('c:a')!.record).toEqual(a);
      expect([...byKey.get('c:a')!.pending].map((p) => p.message.id)).toEqual(['t2']);
      expect([...byKey.get('c:b')!.pending].map((p) => [p.destination, p.message.id, p.message.redeliveryCounter])).toEqual([['topic://news', 't1', 1]]);
    });

    it('forgets a removed subscription and its messages, and a removed destination and its messages', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add-subscription', subscription: subscription('s1') });
      await write(h.store, { op: 'add', destination: 'topic://news', message: message('t1'), subscriptions: ['s1'] });
      await write(h.store, { op: 'remove-subscription', destination: 'topic://news', id: 's1' });
      await write(h.store, { op: 'add-destination', destination: 'queue://gone' });
      await write(h.store, { op: 'add', destination: 'queue://gone', message: message('g1') });
      await write(h.store, { op: 'remove-destination', destination: 'queue://gone' });
      const state = await (await h.reopen()).recover();
      expect(state.subscriptions).toEqual([]);
      expect(state.destinations).not.toContain('queue://gone');
      expect(state.queues.has('queue://gone')).toBe(false);
    });

    it('applies a transaction as a whole', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('before') });
      await new Promise<void>((resolve, reject) =>
        h.store.commit(
          'tx-1',
          [
            { op: 'add', destination: 'queue://q', message: message('t1') },
            { op: 'add', destination: 'queue://r', message: message('t2') },
            { op: 'remove', destination: 'queue://q', messageId: 'before' },
          ],
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      const state = await (await h.reopen()).recover();
      expect([...state.queues.get('queue://q')!].map((m) => m.id)).toEqual(['t1']);
      expect([...state.queues.get('queue://r')!].map((m) => m.id)).toEqual(['t2']);
    });

    it('runs write callbacks in the order the writes were made', async () => {
      const h = await open();
      await h.store.recover();
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => new Promise<void>((resolve) => h.store.write({ op: 'add', destination: 'queue://q', message: message(`m${i}`) }, () => (order.push(i), resolve())))),
      );
      expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });
  });
}

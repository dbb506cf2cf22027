/** The store contract: every MessageStore must pass these (in the manner of aedes-persistence's abstract tests). */
import { describe, expect, it } from 'vitest';
import { subscriptionHolder } from '../../src/store/holders.js';
import type { DurableSubscriptionRecord, MessageStore, PagedMessage, RecoveredState, StoredMessage, StoreOp } from '../../src/store/types.js';

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

/** Writes one op; resolves with the position the store gave an add. */
export function write(store: MessageStore, op: StoreOp): Promise<number | undefined> {
  return new Promise((resolve, reject) => store.write(op, (err, position) => (err ? reject(err) : resolve(position))));
}

/** Everything a queue or durable subscription has pending, read back from the store. */
export function pendingOf(store: MessageStore, holder: string): Promise<PagedMessage[]> {
  return store.backlog(holder).read(0, Infinity, Infinity);
}

export async function idsOf(store: MessageStore, holder: string): Promise<string[]> {
  return (await pendingOf(store, holder)).map((p) => p.message.id);
}

/** Opens the store as a restarted broker would. */
async function reopened(h: StoreHarness): Promise<{ store: MessageStore; state: RecoveredState }> {
  const store = await h.reopen();
  return { store, state: await store.recover() };
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
      const positions: number[] = [];
      for (const m of [message('m1'), m2, message('m3'), message('m4')]) positions.push((await write(h.store, { op: 'add', destination: 'queue://q', message: m }))!);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm1', position: positions[0] });
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm3', position: positions[2] });
      const { store, state } = await reopened(h);
      expect(state.destinations).toContain('queue://q');
      expect(state.queues.get('queue://q')).toBe(2);
      const recovered = await pendingOf(store, 'queue://q');
      expect(recovered.map((p) => [p.message.id, p.position, p.destination])).toEqual([
        ['m2', positions[1], 'queue://q'],
        ['m4', positions[3], 'queue://q'],
      ]);
      const r2 = recovered[0].message;
      expect({ ...r2.headers }).toEqual({ 'content-type': 'text/plain', 'x-unicode': 'ü✓' });
      expect([...r2.body]).toEqual([0, 255, 0]);
      expect([r2.priority, r2.expiration, r2.timestamp, r2.brokerPath, r2.redeliveryCounter]).toEqual([9, 1_900_000_000_000, 1_700_000_000_000, ['b1', 'b2'], 0]);
      expect({ ...r2.brokerHeaders }).toEqual({ 'original-destination': '/queue/x' });
    });

    it('pages a backlog: after a position, up to a position, a page at a time, and counts what follows', async () => {
      const h = await open();
      await h.store.recover();
      const positions: number[] = [];
      for (let i = 0; i < 10; i++) positions.push((await write(h.store, { op: 'add', destination: 'queue://q', message: message(`m${i}`) }))!);
      const backlog = h.store.backlog('queue://q');
      expect([backlog.size, backlog.last, backlog.countAfter(positions[6])]).toEqual([10, positions[9], 3]);
      expect((await backlog.read(positions[2], Infinity, 3)).map((p) => p.message.id)).toEqual(['m3', 'm4', 'm5']);
      expect((await backlog.read(positions[7], positions[8], 10)).map((p) => p.message.id)).toEqual(['m8']);
      expect(await backlog.read(positions[9], Infinity, 10)).toEqual([]);
      expect(h.store.backlog('queue://none').size).toBe(0);
    });

    it('keeps two messages with the same id as two (the store tells messages apart by position)', async () => {
      const h = await open();
      await h.store.recover();
      const p1 = await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1') });
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1', { body: Buffer.from('other') }) });
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm1', position: p1 });
      const { store } = await reopened(h);
      expect((await pendingOf(store, 'queue://q')).map((p) => p.message.body.toString())).toEqual(['other']);
    });

    it('remembers duplicate-detection ids per destination across a restart', async () => {
      const h = await open();
      await h.store.recover();
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1'), duplicateId: 'order-1' });
      const p2 = await write(h.store, { op: 'add', destination: 'queue://q', message: message('m2'), duplicateId: 'order-2' });
      await write(h.store, { op: 'remove', destination: 'queue://q', messageId: 'm2', position: p2 });
      const { state } = await reopened(h);
      expect(state.duplicateIds.get('queue://q')).toEqual(['order-1', 'order-2']);
    });

    it('brings back a dispatched, unacknowledged message with one more redelivery, and the broker it went to', async () => {
      const h = await open();
      await h.store.recover();
      const p1 = await write(h.store, { op: 'add', destination: 'queue://q', message: message('m1') });
      await write(h.store, { op: 'add', destination: 'queue://q', message: message('m2') });
      await write(h.store, { op: 'dispatched', destination: 'queue://q', messageId: 'm1', consumer: 'edge-1', position: p1 });
      const { store } = await reopened(h);
      expect((await pendingOf(store, 'queue://q')).map((p) => [p.message.id, p.message.redeliveryCounter, p.message.dispatchedTo])).toEqual([
        ['m1', 1, 'edge-1'],
        ['m2', 0, undefined],
      ]);
    });

    it('keeps durable subscriptions and, per subscription, the topic messages it has not acknowledged', async () => {
      const h = await open();
      await h.store.recover();
      const a = subscription('sub-a', 'c:a');
      const b = subscription('sub-b', 'c:b');
      await write(h.store, { op: 'add-subscription', subscription: a });
      await write(h.store, { op: 'add-subscription', subscription: b });
      const t1 = await write(h.store, { op: 'add', destination: 'topic://news', message: message('t1'), subscriptions: ['sub-a', 'sub-b'] });
      await write(h.store, { op: 'add', destination: 'topic://news', message: message('t2'), subscriptions: ['sub-a'] });
      await write(h.store, { op: 'remove', destination: 'topic://news', messageId: 't1', subscription: 'sub-a', position: t1 });
      await write(h.store, { op: 'dispatched', destination: 'topic://news', messageId: 't1', subscription: 'sub-b', position: t1 });
      const { store, state } = await reopened(h);
      const byKey = new Map(state.subscriptions.map((s) => [s.record.key, s]));
      expect(byKey.get('c:a')!.record).toEqual(a);
      expect([byKey.get('c:a')!.pending, byKey.get('c:b')!.pending]).toEqual([1, 1]);
      expect(await idsOf(store, subscriptionHolder('sub-a'))).toEqual(['t2']);
      expect((await pendingOf(store, subscriptionHolder('sub-b'))).map((p) => [p.destination, p.message.id, p.message.redeliveryCounter])).toEqual([['topic://news', 't1', 1]]);
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
      const { store, state } = await reopened(h);
      expect(state.subscriptions).toEqual([]);
      expect(state.destinations).not.toContain('queue://gone');
      expect(state.queues.has('queue://gone')).toBe(false);
      expect(store.backlog(subscriptionHolder('s1')).size).toBe(0);
    });

    it('purges the messages between two positions only (what consumers hold and what is still being written stay)', async () => {
      const h = await open();
      await h.store.recover();
      const positions: number[] = [];
      for (let i = 0; i < 6; i++) positions.push((await write(h.store, { op: 'add', destination: 'queue://q', message: message(`m${i}`) }))!);
      await write(h.store, { op: 'purge', destination: 'queue://q', after: positions[1], upTo: positions[4] });
      const { store } = await reopened(h);
      expect(await idsOf(store, 'queue://q')).toEqual(['m0', 'm1', 'm5']);
    });

    it('applies a transaction as a whole, giving each add its position', async () => {
      const h = await open();
      await h.store.recover();
      const before = await write(h.store, { op: 'add', destination: 'queue://q', message: message('before') });
      const positions = await new Promise<ReadonlyArray<number | undefined>>((resolve, reject) =>
        h.store.commit(
          'tx-1',
          [
            { op: 'add', destination: 'queue://q', message: message('t1') },
            { op: 'add', destination: 'queue://r', message: message('t2') },
            { op: 'remove', destination: 'queue://q', messageId: 'before', position: before },
          ],
          (err, p) => (err ? reject(err) : resolve(p ?? [])),
        ),
      );
      expect(positions[0]).toBeGreaterThan(before!);
      expect(positions[1]).toBeGreaterThan(positions[0]!);
      expect(positions[2]).toBeUndefined();
      const { store } = await reopened(h);
      expect(await pendingOf(store, 'queue://q')).toEqual([expect.objectContaining({ position: positions[0] })]);
      expect(await idsOf(store, 'queue://q')).toEqual(['t1']);
      expect(await idsOf(store, 'queue://r')).toEqual(['t2']);
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

/**
 * ActiveMQ's store cursor: a queue keeps in memory only what fits under the
 * memory limit's high-water mark (70%); persistent messages beyond it stay in
 * the store only and are paged in, in order, as consumers make room. A
 * restart loads the index only.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/temp-dir.js';

const MEMORY_LIMIT = 256 * 1024;
const PAD = 'x'.repeat(1000);

function persistentBroker(directory: string): Promise<Broker> {
  return startBroker({ persistent: true, store: { directory }, policy: { memoryLimit: MEMORY_LIMIT } });
}

/** Sends `count` numbered persistent messages, a receipt every 100. */
async function produce(broker: Broker, destination: string, count: number): Promise<void> {
  const p = await connectClient(broker);
  for (let i = 0; i < count; i++) {
    const body = `${i}:${PAD}`;
    if (i % 100 === 99 || i === count - 1) await p.sendWithReceipt(destination, body, { persistent: 'true' });
    else p.send(destination, body, { persistent: 'true' });
  }
  await p.disconnect();
}

const numbers = (n: number) => Array.from({ length: n }, (_, i) => i);
const numberOf = (text: string) => Number(text.slice(0, text.indexOf(':')));

describe('store cursor', () => {
  it('keeps persistent messages past the high-water mark in the store only, accepts them all, and delivers them in order', async () => {
    const broker = await persistentBroker(tempDir('cursor'));
    const total = 3000;
    await produce(broker, '/queue/big', total);
    const q = broker.router.queues.get('queue://big')!;
    expect(q.size).toBe(total);
    // About 3 MB were sent under a 256 KiB limit: most wait in the store only.
    expect(q.backlog).toBeGreaterThan(total - 300);
    expect(broker.router.memoryInUse).toBeLessThanOrEqual(MEMORY_LIMIT * 0.7 + 2000);
    const c = await connectClient(broker);
    const got: number[] = [];
    let peak = 0;
    await c.subscribe('/queue/big', (m) => {
      got.push(numberOf(m.text));
      peak = Math.max(peak, broker.router.memoryInUse);
    });
    await eventually(() => got.length === total, 20_000, 'every message consumed');
    expect(got).toEqual(numbers(total));
    expect(peak).toBeLessThanOrEqual(MEMORY_LIMIT);
    expect(q.size).toBe(0);
  });

  it('recovers the index only: nothing is read until a consumer comes; then every message, in order, the dispatched ones marked redelivered', async () => {
    const directory = tempDir('cursor');
    const first = await persistentBroker(directory);
    await produce(first, '/queue/kept', 1000);
    const taker = await connectClient(first);
    const taken: number[] = [];
    await taker.subscribe('/queue/kept', (m) => taken.push(numberOf(m.text)), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '5' } });
    await eventually(() => taken.length === 5, 5000, 'five dispatched, not acknowledged');
    await first.stop();

    const second = await persistentBroker(directory);
    const q = second.router.queues.get('queue://kept')!;
    expect([q.size, q.backlog, second.router.memoryInUse]).toEqual([1000, 1000, 0]);
    const c = await connectClient(second);
    const got: Array<[number, boolean]> = [];
    await c.subscribe('/queue/kept', (m) => got.push([numberOf(m.text), m.redelivered]));
    await eventually(() => got.length === 1000, 20_000, 'every message consumed');
    expect(got.map(([n]) => n)).toEqual(numbers(1000));
    expect(got.filter(([, redelivered]) => redelivered).map(([n]) => n)).toEqual(taken);
  });

  it('browses a backlog in the store page by page, and leaves it for consumers', async () => {
    const broker = await persistentBroker(tempDir('cursor'));
    await produce(broker, '/queue/browsed', 1500);
    expect(broker.router.queues.get('queue://browsed')!.backlog).toBeGreaterThan(1000);
    const b = await connectClient(broker);
    const seen: number[] = [];
    let ended = false;
    await b.subscribe('/queue/browsed', (m) => (m.headers.browser === 'end' ? (ended = true) : seen.push(numberOf(m.text))), { headers: { browser: 'true' } });
    await eventually(() => ended, 20_000, 'browser:end');
    expect(seen).toEqual(numbers(1500));
    expect(broker.router.queues.get('queue://browsed')!.size).toBe(1500);
  });

  it('purges the backlog and what memory holds, but not what a consumer holds; a restart agrees', async () => {
    const directory = tempDir('cursor');
    const first = await persistentBroker(directory);
    await produce(first, '/queue/purged', 1000);
    const holder = await connectClient(first);
    const held: number[] = [];
    await holder.subscribe('/queue/purged', (m) => held.push(numberOf(m.text)), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '10' } });
    await eventually(() => held.length === 10, 5000, 'ten held by a consumer');
    const q = first.router.queues.get('queue://purged')!;
    expect(q.purge()).toBe(990);
    expect(q.size).toBe(0);
    holder.destroy();
    await eventually(() => q.size === 10, 5000, 'the held ones back on the queue');
    await first.stop();
    const second = await persistentBroker(directory);
    expect(second.router.queues.get('queue://purged')!.size).toBe(10);
  });

  it('pages in a durable subscription that collected a backlog while offline, across a restart', async () => {
    const directory = tempDir('cursor');
    const first = await persistentBroker(directory);
    const durable = { 'activemq.subscriptionName': 'all' };
    const sub = await connectClient(first, { connectHeaders: { 'client-id': 'reader' } });
    await (await sub.subscribe('/topic/feed', () => {}, { headers: durable })).unsubscribe();
    await produce(first, '/topic/feed', 2000);
    await first.stop();
    const second = await persistentBroker(directory);
    expect(second.router.memoryInUse).toBe(0);
    const again = await connectClient(second, { connectHeaders: { 'client-id': 'reader' } });
    const got: number[] = [];
    await again.subscribe('/topic/feed', (m) => got.push(numberOf(m.text)), { headers: durable });
    await eventually(() => got.length === 2000, 20_000, 'the durable backlog');
    expect(got).toEqual(numbers(2000));
  });
});

import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/client/index.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';

describe('pending message limit (ActiveMQ constantPendingMessageLimitStrategy)', () => {
  it('keeps a slow non-durable topic subscriber\'s newest messages only, and leaves other topics and durable subscribers whole', async () => {
    const b = await startBroker({ policyEntries: [{ topic: 'prices.>', pendingMessageLimit: 10 }] });
    const slow = await connectClient(b, { connectHeaders: { 'client-id': 'slow-app' } });
    const got: ReceivedMessage[] = [];
    // Prefetch 1 and no acknowledgement: everything else waits for it.
    await slow.subscribe('/topic/prices.eur', (m) => got.push(m), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    const durable: ReceivedMessage[] = [];
    await slow.subscribe('/topic/prices.eur', (m) => durable.push(m), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1', 'activemq.subscriptionName': 'keep-all' } });
    const other: ReceivedMessage[] = [];
    await slow.subscribe('/topic/news', (m) => other.push(m), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    const p = await connectClient(b);
    for (let i = 0; i < 100; i++) {
      await p.sendWithReceipt('/topic/prices.eur', `p${i}`);
      await p.sendWithReceipt('/topic/news', `n${i}`);
    }
    await eventually(() => got.length === 1 && durable.length === 1 && other.length === 1, 3000, 'the first of each');
    // Acknowledge the one in flight, then take the rest: the slow subscriber gets the first and the newest ten.
    const drain = async (list: ReceivedMessage[], n: number) => {
      for (let i = 0; i < n; i++) {
        await eventually(() => list.length > i, 3000, `message ${i}`);
        slow.ack(list[i]);
      }
    };
    await drain(got, 11);
    await sleep(200);
    expect(got.map((m) => m.text)).toEqual(['p0', ...Array.from({ length: 10 }, (_, i) => `p${90 + i}`)]);
    await drain(other, 100);
    await drain(durable, 100);
    expect(durable.map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => `p${i}`));
  });
});

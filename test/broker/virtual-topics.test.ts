/**
 * ActiveMQ's virtual topics: a producer sends to /topic/VirtualTopic.Orders,
 * each application reads its own queue /queue/Consumer.<app>.VirtualTopic.Orders
 * with queue semantics (load balancing, keeping messages while away,
 * persistence).
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { ReceivedMessage } from '../../src/client/index.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/temp-dir.js';

async function collect(b: Broker, destination: string, headers: Record<string, string> = {}) {
  const c = await connectClient(b);
  const got: ReceivedMessage[] = [];
  const sub = await c.subscribe(destination, (m) => got.push(m), { headers });
  return { got, sub, client: c };
}

async function publish(b: Broker, count: number, headers: (i: number) => Record<string, string> = () => ({})) {
  const p = await connectClient(b);
  for (let i = 0; i < count; i++) await p.sendWithReceipt('/topic/VirtualTopic.Orders', `order ${i}`, headers(i));
}

describe('virtual topics', () => {
  it('give every consumer queue that exists one copy of each message, load-balanced within an application, and the topic\'s own subscribers theirs', async () => {
    const b = await startBroker();
    const a1 = await collect(b, '/queue/Consumer.A.VirtualTopic.Orders');
    const a2 = await collect(b, '/queue/Consumer.A.VirtualTopic.Orders');
    const billing = await collect(b, '/queue/Consumer.Billing.VirtualTopic.Orders');
    const plain = await collect(b, '/topic/VirtualTopic.Orders');
    const other = await collect(b, '/queue/Consumer.A.VirtualTopic.Invoices');
    await publish(b, 20);
    await eventually(() => a1.got.length + a2.got.length === 20 && billing.got.length === 20 && plain.got.length === 20, 5000, 'every copy');
    await sleep(100);
    expect([...a1.got, ...a2.got].map((m) => m.text).sort()).toEqual([...billing.got.map((m) => m.text)].sort());
    expect(a1.got.length).toBeGreaterThan(0);
    expect(a2.got.length).toBeGreaterThan(0);
    expect(billing.got[0].destination).toBe('/queue/Consumer.Billing.VirtualTopic.Orders');
    expect(billing.got[0].messageId).toBe(plain.got[0].messageId);
    expect(other.got).toEqual([]);
    // A consumer queue made after the send gets nothing of it.
    const late = await collect(b, '/queue/Consumer.Late.VirtualTopic.Orders');
    await sleep(100);
    expect(late.got).toEqual([]);
  });

  it('keep an application\'s messages in its queue while its consumers are away, persistent ones across a restart', async () => {
    const dir = tempDir('virtual-topics');
    const config = { persistent: true, store: { directory: dir } };
    const b = await startBroker(config);
    const app = await collect(b, '/queue/Consumer.A.VirtualTopic.Orders');
    await app.sub.unsubscribe();
    await publish(b, 10, () => ({ persistent: 'true' }));
    expect(b.router.queues.get('queue://Consumer.A.VirtualTopic.Orders')!.size).toBe(10);
    await b.stop();
    const again = await startBroker(config);
    const back = await collect(again, '/queue/Consumer.A.VirtualTopic.Orders');
    await eventually(() => back.got.length === 10, 5000, 'the ten kept messages after the restart');
  });

  it('with selectorAware copy a message only to consumer queues whose consumers\' selectors take it', async () => {
    const b = await startBroker({ virtualTopics: [{ name: 'VirtualTopic.>', prefix: 'Consumer.*.', postfix: '', selectorAware: true, local: false }] });
    const eu = await collect(b, '/queue/Consumer.EU.VirtualTopic.Orders', { selector: "region = 'eu'" });
    const us = await collect(b, '/queue/Consumer.US.VirtualTopic.Orders', { selector: "region = 'us'" });
    await publish(b, 10, (i) => ({ region: i % 2 ? 'eu' : 'us' }));
    await eventually(() => eu.got.length === 5 && us.got.length === 5, 5000, 'the matching copies');
    await sleep(100);
    // Nothing unmatched piles up in the consumer queues.
    expect(b.router.queues.get('queue://Consumer.EU.VirtualTopic.Orders')!.size).toBe(0);
    expect(b.router.queues.get('queue://Consumer.US.VirtualTopic.Orders')!.size).toBe(0);
  });

  it('take a custom name and prefix, and can be turned off', async () => {
    const custom = await startBroker({ virtualTopics: [{ name: 'Events.>', prefix: 'App.*.', postfix: '', selectorAware: false, local: false }] });
    const app = await collect(custom, '/queue/App.Audit.Events.Login');
    const p = await connectClient(custom);
    await p.sendWithReceipt('/topic/Events.Login', 'alice');
    await eventually(() => app.got.length === 1, 3000, 'the copy under the custom prefix');
    const off = await startBroker({ virtualTopics: [] });
    const none = await collect(off, '/queue/Consumer.A.VirtualTopic.Orders');
    await publish(off, 3);
    await sleep(100);
    expect(none.got).toEqual([]);
  });
});

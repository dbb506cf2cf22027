import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/client/index.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';

function collect() {
  const got: ReceivedMessage[] = [];
  return { got, handler: (m: ReceivedMessage) => got.push(m), texts: () => got.map((m) => m.text) };
}

describe('selectors', () => {
  it('gives a queue consumer only the messages its selector matches; the rest wait for someone else', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const red = collect();
    await c.subscribe('/queue/paint', red.handler, { headers: { selector: "color = 'red' AND weight > 5" } });
    for (const [color, weight] of [['red', 10], ['blue', 10], ['red', 1], ['red', 6]] as const) {
      await c.sendWithReceipt('/queue/paint', `${color}-${weight}`, { color, weight: String(weight) });
    }
    await eventually(() => red.got.length === 2);
    expect(red.texts()).toEqual(['red-10', 'red-6']);
    const any = collect();
    await c.subscribe('/queue/paint', any.handler);
    await eventually(() => any.got.length === 2);
    expect(any.texts()).toEqual(['blue-10', 'red-1']);
  });

  it('filters topic subscriptions', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const big = collect();
    await c.subscribe('/topic/prices', big.handler, { headers: { selector: 'price >= 100' } });
    for (const price of [50, 150, 99, 100]) await c.sendWithReceipt('/topic/prices', String(price), { price: String(price) });
    await eventually(() => big.got.length === 2);
    expect(big.texts()).toEqual(['150', '100']);
  });

  it('refuses an invalid selector with an ERROR naming the position', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write("SUBSCRIBE\nid:1\ndestination:/queue/a\nselector:color = 'red' AND\n\n\0");
    const err = await s.next('ERROR');
    expect(err.headers.message).toBe('Invalid selector: Unexpected end of selector at position 18');
  });
});

describe('redelivery and the dead letter queue', () => {
  it('dead-letters a message redelivered more than maximumRedeliveries times, counting deliveries', async () => {
    const broker = await startBroker({ policy: { maximumRedeliveries: 2 } });
    const p = await connectClient(broker);
    await p.sendWithReceipt('/queue/flaky', 'bad news', { persistent: 'true' });
    const seen: Array<[boolean, string | undefined]> = [];
    for (let i = 0; i < 3; i++) {
      const c = await connectClient(broker);
      const got = collect();
      await c.subscribe('/queue/flaky', got.handler, { ack: 'client-individual' });
      await eventually(() => got.got.length === 1);
      seen.push([got.got[0].redelivered, got.got[0].headers.JMSXDeliveryCount]);
      c.destroy();
      await eventually(() => broker.router.queues.get('queue://flaky')!.consumerCount === 0);
    }
    expect(seen).toEqual([
      [false, undefined],
      [true, '2'],
      [true, '3'],
    ]);
    const dlq = collect();
    await p.subscribe('/queue/ActiveMQ.DLQ', dlq.handler);
    await eventually(() => dlq.got.length === 1);
    expect(dlq.got[0].headers['original-destination']).toBe('/queue/flaky');
    expect(dlq.got[0].headers.dlqDeliveryFailureCause).toContain('maximumRedeliveries=2');
    expect(broker.router.queues.get('queue://flaky')!.size).toBe(0);
  });

  it('uses one DLQ per destination with the individual strategy (ActiveMQ.DLQ.Queue.<name>)', async () => {
    const broker = await startBroker({ policy: { deadLetterStrategy: 'individual' } });
    const c = await connectClient(broker);
    const got = collect();
    await c.subscribe('/queue/orders', got.handler, { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/orders', 'x', { persistent: 'true' });
    await eventually(() => got.got.length === 1);
    await c.request('NACK', { id: got.got[0].headers.ack });
    const dlq = collect();
    await c.subscribe('/queue/ActiveMQ.DLQ.Queue.orders', dlq.handler);
    await eventually(() => dlq.got.length === 1);
  });

  it('drops a NACKed non-persistent message instead of dead-lettering it (ActiveMQ processNonPersistent=false)', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const got = collect();
    await c.subscribe('/queue/np', got.handler, { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/np', 'transient');
    await eventually(() => got.got.length === 1);
    await c.request('NACK', { id: got.got[0].headers.ack });
    expect(broker.router.queues.get('queue://ActiveMQ.DLQ')).toBeUndefined();
  });
});

describe('expiry and priority', () => {
  it('never delivers an expired message; a persistent one goes to the DLQ, a non-persistent one is dropped', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const past = String(Date.now() - 1000);
    await c.sendWithReceipt('/queue/stale', 'old persistent', { expires: past, persistent: 'true' });
    await c.sendWithReceipt('/queue/stale', 'old transient', { expires: past });
    await c.sendWithReceipt('/queue/stale', 'fresh', { expires: String(Date.now() + 60_000) });
    const got = collect();
    await c.subscribe('/queue/stale', got.handler);
    await eventually(() => got.got.length === 1);
    await sleep(100);
    expect(got.texts()).toEqual(['fresh']);
    const dlq = collect();
    await c.subscribe('/queue/ActiveMQ.DLQ', dlq.handler);
    await eventually(() => dlq.got.length === 1);
    expect(dlq.got[0].text).toBe('old persistent');
    expect(dlq.got[0].headers.expires).toBe('0');
  });

  it('expires pending messages in the periodic sweep, and drops them with processExpired=false', async () => {
    const broker = await startBroker({ policy: { expireMessagesPeriod: 50, processExpired: false } });
    const c = await connectClient(broker);
    await c.sendWithReceipt('/queue/sweep', 'soon gone', { expires: String(Date.now() + 100), persistent: 'true' });
    const q = broker.router.queues.get('queue://sweep')!;
    expect(q.size).toBe(1);
    await eventually(() => q.size === 0, 2000);
    expect(q.stats.expired).toBe(1);
    expect(broker.router.queues.get('queue://ActiveMQ.DLQ')).toBeUndefined();
  });

  it('orders a queue by priority with prioritizedMessages', async () => {
    const broker = await startBroker({ policy: { prioritizedMessages: true } });
    const c = await connectClient(broker);
    for (const p of [1, 9, 4, 9, 0, 7]) await c.sendWithReceipt('/queue/prio', `p${p}`, { priority: String(p) });
    const got = collect();
    await c.subscribe('/queue/prio', got.handler);
    await eventually(() => got.got.length === 6);
    expect(got.texts()).toEqual(['p9', 'p9', 'p7', 'p4', 'p1', 'p0']);
  });
});

describe('destinations', () => {
  it('serves request/reply over a temporary queue named in reply-to, and deletes it with its connection', async () => {
    const broker = await startBroker();
    const responder = await connectClient(broker);
    await responder.subscribe('/queue/requests', (m) => responder.send(m.headers['reply-to'], `re: ${m.text}`));
    const requester = await connectClient(broker);
    const replies = collect();
    await requester.subscribe('/temp-queue/replies', replies.handler);
    await requester.sendWithReceipt('/queue/requests', 'ping', { 'reply-to': '/temp-queue/replies' });
    await eventually(() => replies.got.length === 1);
    expect(replies.got[0].text).toBe('re: ping');
    expect(replies.got[0].headers.destination).toBe('/temp-queue/replies');
    const remoteName = [...broker.router.temporaries.keys()][0];
    expect(remoteName).toMatch(/^temp-queue:\/\//);
    await requester.disconnect();
    await eventually(() => broker.router.temporaries.size === 0);
    expect(broker.router.queues.has(remoteName)).toBe(false);
    const late = await connectClient(broker);
    await expect(late.sendWithReceipt(`/remote-temp-queue/${remoteName.slice('temp-queue://'.length)}`, 'too late')).rejects.toThrow(/Cannot publish to a deleted Destination/);
  });

  it('refuses to let another connection consume a temporary queue', async () => {
    const broker = await startBroker();
    const owner = await connectClient(broker);
    await owner.subscribe('/temp-queue/mine', () => {});
    const name = [...broker.router.temporaries.keys()][0].slice('temp-queue://'.length);
    const thief = await connectClient(broker);
    await expect(thief.subscribe(`/remote-temp-queue/${name}`, () => {})).rejects.toThrow(/temporary destination of another connection/);
  });

  it('sends to every destination of a composite destination', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const q = collect();
    const t = collect();
    await c.subscribe('/queue/a', q.handler);
    await c.subscribe('/topic/b', t.handler);
    await c.sendWithReceipt('/queue/a,/topic/b', 'both');
    await eventually(() => q.got.length === 1 && t.got.length === 1);
    expect(t.got[0].headers.destination).toBe('/topic/b');
  });

  it('matches wildcard subscriptions on topics and queues (. separates, * one element, > the rest)', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const stars = collect();
    const all = collect();
    await c.subscribe('/topic/PRICE.STOCK.*.IBM', stars.handler);
    await c.subscribe('/topic/PRICE.>', all.handler);
    for (const d of ['PRICE.STOCK.NASDAQ.IBM', 'PRICE.STOCK.NYSE.IBM', 'PRICE.STOCK.NYSE.SUN', 'PRICE.BOND', 'OTHER.X']) await c.sendWithReceipt(`/topic/${d}`, d);
    await eventually(() => all.got.length === 4);
    expect(stars.texts()).toEqual(['PRICE.STOCK.NASDAQ.IBM', 'PRICE.STOCK.NYSE.IBM']);
    expect(stars.got[0].headers.destination).toBe('/topic/PRICE.STOCK.NASDAQ.IBM');
    await c.sendWithReceipt('/queue/jobs.eu', 'eu-before');
    const jobs = collect();
    await c.subscribe('/queue/jobs.*', jobs.handler);
    await c.sendWithReceipt('/queue/jobs.us', 'us-after');
    await eventually(() => jobs.got.length === 2);
    expect(jobs.texts().sort()).toEqual(['eu-before', 'us-after']);
  });

  it('publishes consumer, producer and connection advisories as JSON, replaying existing consumers to a new advisory subscriber', async () => {
    const broker = await startBroker();
    const existing = await connectClient(broker);
    await existing.subscribe('/queue/orders', () => {});
    const watcher = await connectClient(broker);
    const consumers = collect();
    const producers = collect();
    await watcher.subscribe('/topic/ActiveMQ.Advisory.Consumer.Queue.orders', consumers.handler);
    await watcher.subscribe('/topic/ActiveMQ.Advisory.Producer.Queue.>', producers.handler);
    await eventually(() => consumers.got.length === 1);
    const replayed = JSON.parse(consumers.got[0].text).ConsumerInfo;
    expect(replayed.destination).toBe('/queue/orders');
    expect(consumers.got[0].headers.type).toBe('Advisory');
    const second = await connectClient(broker);
    const sub = await second.subscribe('/queue/orders', () => {}, { headers: { selector: "region = 'eu'" } });
    await eventually(() => consumers.got.length === 2);
    expect(JSON.parse(consumers.got[1].text).ConsumerInfo.selector).toBe("region = 'eu'");
    expect(consumers.got[1].headers.consumerCount).toBe('2');
    await sub.unsubscribe();
    await eventually(() => consumers.got.length === 3);
    expect(JSON.parse(consumers.got[2].text).RemoveInfo).toBeDefined();
    await second.sendWithReceipt('/queue/orders', 'x');
    await eventually(() => producers.got.length === 1);
    expect(JSON.parse(producers.got[0].text).ProducerInfo.destination).toBe('/queue/orders');
  });
});

describe('consumer options', () => {
  it('gives everything to the exclusive consumer while it lives, then to the next', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const a = await connectClient(broker);
    const b = await connectClient(broker);
    const ga = collect();
    const gb = collect();
    await a.subscribe('/queue/ex', ga.handler, { headers: { 'activemq.exclusive': 'true' } });
    await b.subscribe('/queue/ex', gb.handler, { headers: { 'activemq.exclusive': 'true' } });
    for (let i = 0; i < 10; i++) await p.sendWithReceipt('/queue/ex', String(i));
    await eventually(() => ga.got.length === 10);
    expect(gb.got).toHaveLength(0);
    a.destroy();
    await eventually(() => broker.router.queues.get('queue://ex')!.consumerCount === 1);
    for (let i = 10; i < 15; i++) await p.sendWithReceipt('/queue/ex', String(i));
    await eventually(() => gb.got.length === 5);
  });

  it('keeps each message group on one consumer until it leaves (JMSXGroupID)', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const cs = await Promise.all([0, 1].map(() => connectClient(broker)));
    const gs = [collect(), collect()];
    for (let i = 0; i < 2; i++) await cs[i].subscribe('/queue/grp', gs[i].handler);
    for (let i = 0; i < 20; i++) await p.sendWithReceipt('/queue/grp', `${i % 4}`, { JMSXGroupID: `g${i % 4}` });
    await eventually(() => gs[0].got.length + gs[1].got.length === 20);
    const owner = (g: string) => (gs[0].texts().includes(g) ? 0 : 1);
    for (const g of ['0', '1', '2', '3']) expect(gs[1 - owner(g)].texts()).not.toContain(g);
    const leaving = owner('0');
    cs[leaving].destroy();
    await eventually(() => broker.router.queues.get('queue://grp')!.consumerCount === 1);
    await p.sendWithReceipt('/queue/grp', '0', { JMSXGroupID: 'g0' });
    await eventually(() => gs[1 - leaving].texts().includes('0'));
  });

  it('prefers higher activemq.priority consumers while they have room', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const hi = collect();
    const lo = collect();
    const c = await connectClient(broker);
    await c.subscribe('/queue/pri', lo.handler, { headers: { 'activemq.priority': '1' } });
    await c.subscribe('/queue/pri', hi.handler, { headers: { 'activemq.priority': '9' } });
    for (let i = 0; i < 10; i++) await p.sendWithReceipt('/queue/pri', String(i));
    await eventually(() => hi.got.length === 10);
    expect(lo.got).toHaveLength(0);
  });

  it('gives a retroactive topic subscriber the recent messages, and honours noLocal', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    for (let i = 0; i < 3; i++) await c.sendWithReceipt('/topic/recent', `old ${i}`);
    const retro = collect();
    await c.subscribe('/topic/recent', retro.handler, { headers: { 'activemq.retroactive': 'true' } });
    await eventually(() => retro.got.length === 3);
    const mine = collect();
    const others = collect();
    await c.subscribe('/topic/chat', mine.handler, { headers: { 'activemq.noLocal': 'true' } });
    const other = await connectClient(broker);
    await other.subscribe('/topic/chat', others.handler);
    await c.sendWithReceipt('/topic/chat', 'from c');
    await other.sendWithReceipt('/topic/chat', 'from other');
    await eventually(() => others.got.length === 2 && mine.got.length === 1);
    expect(mine.texts()).toEqual(['from other']);
  });
});


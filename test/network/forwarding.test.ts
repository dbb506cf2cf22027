import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Network } from '../../src/network/connectors.js';
import { eventually, sleep } from '../helpers/broker.js';
import { broker, bridgesUp, consumer, sendAll, settle, url } from './helpers.js';

/** The seed's topology: hub broker1, edges broker2 and broker3 with duplex connectors to it. */
async function seed(options = '') {
  const hub = await broker('broker1');
  const uri = `static:(${url(hub)})?duplex=true${options ? `&${options}` : ''}`;
  const e2 = await broker('broker2', [uri]);
  const e3 = await broker('broker3', [uri]);
  await bridgesUp(e2, e3);
  return { hub, e2, e3 };
}

describe('network of brokers: demand forwarding', () => {
  it('spreads hub messages over consumers on both edges, each message exactly once', async () => {
    const { hub, e2, e3 } = await seed();
    const c2 = await consumer(e2, '/queue/work');
    const c3 = await consumer(e3, '/queue/work');
    await settle();
    await sendAll(hub, '/queue/work', 1000);
    await eventually(() => c2.got.length + c3.got.length === 1000);
    await sleep(200);
    const all = [...c2.texts(), ...c3.texts()];
    expect(new Set(all).size).toBe(1000);
    expect(all).toHaveLength(1000);
    // Strict alternation while no bridge prefetch is full (ActiveMQ B-4).
    expect(c2.got.length).toBe(500);
  });

  it('moves the flow to the other edge when one edge loses its consumers', async () => {
    const { hub, e2, e3 } = await seed();
    const c2 = await consumer(e2, '/queue/work');
    const c3 = await consumer(e3, '/queue/work');
    await settle();
    await sendAll(hub, '/queue/work', 100, {}, 'a');
    await eventually(() => c2.got.length + c3.got.length === 100);
    await c2.sub.unsubscribe();
    await settle();
    await sendAll(hub, '/queue/work', 100, {}, 'b');
    await eventually(() => c3.texts().filter((t) => t.startsWith('b')).length === 100);
    expect(c2.texts().filter((t) => t.startsWith('b'))).toHaveLength(0);
  });

  it('carries edge messages to a hub consumer over the edge\'s duplex connection (push)', async () => {
    const { hub, e2 } = await seed();
    const c = await consumer(hub, '/queue/up');
    await settle();
    await sendAll(e2, '/queue/up', 50);
    await eventually(() => c.got.length === 50);
  });

  it('does not carry edge-to-edge traffic with networkTTL 1, and does with networkTTL 2 (ActiveMQ B-9)', async () => {
    for (const ttl of [1, 2]) {
      const { e2, e3 } = await seed(`networkTTL=${ttl}`);
      const c3 = await consumer(e3, '/queue/across');
      await settle(500);
      await sendAll(e2, '/queue/across', 40);
      if (ttl === 1) {
        await sleep(700);
        expect(c3.got).toHaveLength(0);
        expect(e2.router.queues.get('queue://across')!.size).toBe(40);
      } else {
        await eventually(() => c3.got.length === 40, 5000, 'edge to edge with TTL 2');
      }
    }
  });

  it('leaves hub messages on the hub with one-way connectors from the edges (ActiveMQ B-3)', async () => {
    const hub = await broker('broker1');
    const e2 = await broker('broker2', [`static:(${url(hub)})`]);
    await bridgesUp(e2);
    const c2 = await consumer(e2, '/queue/down');
    const ch = await consumer(hub, '/queue/up');
    await settle();
    await sendAll(hub, '/queue/down', 20);
    await sendAll(e2, '/queue/up', 20);
    await eventually(() => ch.got.length === 20);
    await sleep(300);
    expect(c2.got).toHaveLength(0);
    expect(hub.router.queues.get('queue://down')!.size).toBe(20);
  });

  it('gives every topic subscriber on every broker each message once, with and without conduit subscriptions', async () => {
    for (const conduit of [true, false]) {
      const { hub, e2, e3 } = await seed(`conduitSubscriptions=${conduit}`);
      const subs = [await consumer(hub, '/topic/news'), await consumer(e2, '/topic/news'), await consumer(e2, '/topic/news'), await consumer(e3, '/topic/news')];
      await settle(500);
      await sendAll(hub, '/topic/news', 100);
      await eventually(() => subs.every((s) => s.got.length >= 100), 5000, `topic copies (conduit ${conduit})`);
      await sleep(300);
      for (const s of subs) expect(new Set(s.texts()).size).toBe(s.got.length);
      expect(subs.map((s) => s.got.length)).toEqual([100, 100, 100, 100]);
    }
  });

  it('counts an edge as one consumer with conduit subscriptions and as each of its consumers without (ActiveMQ B-6)', async () => {
    for (const [conduit, expected] of [
      [true, [300, 300, 600]],
      [false, [400, 400, 400]],
    ] as const) {
      const { hub, e2, e3 } = await seed(`conduitSubscriptions=${conduit}`);
      const a = await consumer(e2, '/queue/split');
      const b = await consumer(e2, '/queue/split');
      const c = await consumer(e3, '/queue/split');
      await settle(500);
      await sendAll(hub, '/queue/split', 1200);
      await eventually(() => a.got.length + b.got.length + c.got.length === 1200);
      expect([a.got.length, b.got.length, c.got.length]).toEqual(expected);
    }
  });

  it('prefers the hub\'s own consumer with decreaseNetworkConsumerPriority (ActiveMQ B-7)', async () => {
    const { hub, e2 } = await seed('decreaseNetworkConsumerPriority=true');
    const local = await consumer(hub, '/queue/prefer');
    const remote = await consumer(e2, '/queue/prefer');
    await settle();
    await sendAll(hub, '/queue/prefer', 200);
    await eventually(() => local.got.length === 200);
    expect(remote.got).toHaveLength(0);
  });

  it('delivers each message once in a triangle of brokers that all bridge to each other', async () => {
    const a = await broker('A');
    const b = await broker('B', [`static:(${url(a)})`]);
    const c = await broker('C', [`static:(${url(a)},${url(b)})`]);
    // Complete the mesh with one-way connectors from A and B.
    for (const [from, to] of [
      [a, [b, c]],
      [b, [c]],
    ] as const) {
      const ext = new Network([`static:(${to.map(url).join(',')})`]);
      ext.install(from);
      await ext.start();
      afterStop.push(() => ext.stop());
    }
    await settle(800);
    const topicSubs = [await consumer(a, '/topic/t'), await consumer(b, '/topic/t'), await consumer(c, '/topic/t')];
    const queueSubs = [await consumer(b, '/queue/q'), await consumer(c, '/queue/q')];
    await settle(800);
    await sendAll(a, '/topic/t', 50);
    await sendAll(a, '/queue/q', 50);
    await eventually(() => topicSubs.every((s) => s.got.length >= 50) && queueSubs[0].got.length + queueSubs[1].got.length >= 50);
    await sleep(500);
    expect(topicSubs.map((s) => s.got.length)).toEqual([50, 50, 50]);
    const q = [...queueSubs[0].texts(), ...queueSubs[1].texts()];
    expect(q).toHaveLength(50);
    expect(new Set(q).size).toBe(50);
    for (const stop of afterStop.splice(0)) await stop();
  });

  it('reaches a consumer two hops away on a chain only with networkTTL 2', async () => {
    for (const ttl of [1, 2]) {
      const middle = await broker('B');
      const a = await broker('A', [`static:(${url(middle)})?duplex=true&networkTTL=${ttl}`]);
      const c = await broker('C', [`static:(${url(middle)})?duplex=true&networkTTL=${ttl}`]);
      await bridgesUp(a, c);
      const far = await consumer(c, '/queue/chain');
      await settle(500);
      await sendAll(a, '/queue/chain', 30);
      if (ttl === 1) {
        await sleep(700);
        expect(far.got).toHaveLength(0);
      } else await eventually(() => far.got.length === 30, 5000, 'two hops with TTL 2');
    }
  });

  it('forwards statically included destinations without any demand', async () => {
    const hub = await broker('broker1');
    const e2 = await broker('broker2', [`static:(${url(hub)})?staticallyIncludedDestinations=queue://always`]);
    await bridgesUp(e2);
    await sendAll(e2, '/queue/always', 10);
    await eventually(() => (hub.router.queues.get('queue://always')?.size ?? 0) === 10);
  });

  it('refuses a bad network URI or option at start, naming it', () => {
    expect(() => new Network(['static:(stomp://h:1)?dupelx=true'])).toThrow(/Invalid connect parameters: \{dupelx=true\}/);
    expect(() => new Network(['static:(stomp://h:1)?networkTTL=zero'])).toThrow(/Invalid value 'zero' for option 'networkTTL'/);
    expect(() => new Network(['stomp://h:1'])).toThrow(ConfigError);
    expect(() => new Network(['static:(amqp://h:5672)'])).toThrow(/unsupported scheme 'amqp'/);
    expect(() => new Network(['static:(stomp://h:1)?excludedDestinations=foo'])).toThrow(/Invalid value 'foo' for option 'excludedDestinations'/);
  });
});

const afterStop: Array<() => Promise<void>> = [];

/**
 * Virtual topics across a network of brokers, as ActiveMQ users set them up:
 * the producer on the hub sends to the topic, each application's consumers
 * read its consumer queue on the edges. The demand for the consumer queues
 * pulls the hub's copies: each application gets each message once. The trap
 * ActiveMQ's documentation warns of — the topic's messages also crossing the
 * bridge and fanned out again on the edge — is reproducible, and `local`
 * closes it.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { VirtualTopicConfig } from '../../src/config/virtual-topics.js';
import { eventually, sleep } from '../helpers/broker.js';
import { broker, bridgesUp, consumer, sendAll, settle, url } from './helpers.js';

async function network(edgeTopics?: VirtualTopicConfig[]): Promise<{ hub: Broker; e2: Broker; e3: Broker }> {
  const hub = await broker('hub');
  const uri = `static:(${url(hub)})?duplex=true`;
  const config = edgeTopics ? { virtualTopics: edgeTopics } : {};
  const e2 = await broker('edge2', [uri], config);
  const e3 = await broker('edge3', [uri], config);
  await bridgesUp(e2, e3);
  return { hub, e2, e3 };
}

const ids = (c: { got: Array<{ text: string }> }[]) => c.flatMap((x) => x.got.map((m) => m.text));

describe('virtual topics in a network of brokers', () => {
  it('deliver each message once to each application, whose consumers sit on two edges', async () => {
    const { hub, e2, e3 } = await network();
    const appA = [await consumer(e2, '/queue/Consumer.A.VirtualTopic.Orders'), await consumer(e3, '/queue/Consumer.A.VirtualTopic.Orders')];
    const appB = [await consumer(e3, '/queue/Consumer.B.VirtualTopic.Orders')];
    await eventually(() => ['Consumer.A', 'Consumer.B'].every((app) => (hub.router.queues.get(`queue://${app}.VirtualTopic.Orders`)?.consumerCount ?? 0) > 0), 5000, 'the edges\' demand on the hub');
    await settle();
    await sendAll(hub, '/topic/VirtualTopic.Orders', 100, { persistent: 'true' });
    await eventually(() => ids(appA).length >= 100 && ids(appB).length >= 100, 8000, 'both applications served');
    await sleep(500);
    expect(ids(appA).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`).sort());
    expect(ids(appB)).toHaveLength(100);
    expect(appA.every((c) => c.got.length > 0)).toBe(true);
  });

  it('duplicate when the topic\'s messages also reach an edge that fans them out again (ActiveMQ\'s warning); local virtual topics on the edges do not', async () => {
    for (const [edgeTopics, expected] of [
      [undefined, 'duplicates'],
      [[{ name: 'VirtualTopic.>', prefix: 'Consumer.*.', postfix: '', selectorAware: false, local: true }], 'once'],
    ] as const) {
      const { hub, e2 } = await network(edgeTopics as VirtualTopicConfig[] | undefined);
      const app = await consumer(e2, '/queue/Consumer.A.VirtualTopic.Orders');
      // A plain subscriber of the topic on the same edge: its demand brings the topic's messages over the bridge too.
      const watcher = await consumer(e2, '/topic/VirtualTopic.Orders');
      await eventually(
        () => (hub.router.queues.get('queue://Consumer.A.VirtualTopic.Orders')?.consumerCount ?? 0) > 0 && (hub.router.topics.get('topic://VirtualTopic.Orders')?.subscriptions.size ?? 0) > 0,
        5000,
        'both demands on the hub',
      );
      await settle();
      await sendAll(hub, '/topic/VirtualTopic.Orders', 50);
      await eventually(() => watcher.got.length === 50 && app.got.length >= 50, 8000, 'the topic and the application served');
      await sleep(500);
      if (expected === 'once') expect(app.got).toHaveLength(50);
      else expect(app.got.length).toBeGreaterThan(50);
    }
  });
});

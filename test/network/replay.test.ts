import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../helpers/broker.js';
import { broker, bridgesUp, client, consumer, sendAll, settle, url } from './helpers.js';

/** ActiveMQ's stuck-message case (B-10): the edge's bridge pulls everything, then its consumer leaves. */
async function stuckOnEdge(options: string, headers: (i: number) => Record<string, string> = () => ({ persistent: 'true' })) {
  const hub = await broker('broker1');
  const uri = `static:(${url(hub)})?duplex=true&replayDelay=200&${options}`;
  const e2 = await broker('broker2', [uri]);
  const e3 = await broker('broker3', [uri]);
  await bridgesUp(e2, e3);
  await sendAll(hub, '/queue/parked', 500, headers);
  const c = await client(e2);
  let taken = 0;
  const sub = await c.subscribe('/queue/parked', (m) => {
    if (taken++ < 10) c.ack(m);
  }, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
  await eventually(() => taken === 11 && (e2.router.queues.get('queue://parked')?.size ?? 0) === 489, 5000, 'the edge pulling everything and its consumer taking 11');
  expect(hub.router.queues.get('queue://parked')!.size).toBe(0);
  await sub.unsubscribe();
  await settle();
  return { hub, e2, e3 };
}

describe('stuck messages and replayWhenNoConsumers', () => {
  it('leaves messages on the edge whose consumers left, by default', async () => {
    const { hub, e2, e3 } = await stuckOnEdge('replayWhenNoConsumers=false');
    const on3 = await consumer(e3, '/queue/parked');
    const on1 = await consumer(hub, '/queue/parked');
    await sleep(1500);
    expect(on3.got.length + on1.got.length).toBe(0);
    const again = await consumer(e2, '/queue/parked');
    await eventually(() => again.got.length === 490);
    expect(again.got.filter((m) => m.redelivered).map((m) => m.text)).toEqual(['m10']);
  });

  it('replays them to a consumer on the hub they came from with replayWhenNoConsumers', async () => {
    const { hub } = await stuckOnEdge('replayWhenNoConsumers=true');
    const on1 = await consumer(hub, '/queue/parked');
    await eventually(() => on1.got.length === 490, 8000, 'replay to the hub');
    expect(new Set(on1.texts()).size).toBe(490);
    // The one the edge's consumer had and did not acknowledge keeps its redelivered flag across the bridge (ActiveMQ B-10).
    expect(on1.got.filter((m) => m.redelivered).map((m) => m.text)).toEqual(['m10']);
  });

  it('replays messages that carry a duplicate-detection id too: one coming back to a broker it passed is no duplicate', async () => {
    const { hub } = await stuckOnEdge('replayWhenNoConsumers=true', (i) => ({ persistent: 'true', _AMQ_DUPL_ID: `order-${i}` }));
    const on1 = await consumer(hub, '/queue/parked');
    await eventually(() => on1.got.length === 490, 8000, 'replay to the hub');
    expect(new Set(on1.texts()).size).toBe(490);
  });

  it('replays them on to the other edge only with networkTTL 3, as ActiveMQ does', async () => {
    const { e3 } = await stuckOnEdge('replayWhenNoConsumers=true&networkTTL=3');
    const on3 = await consumer(e3, '/queue/parked');
    await eventually(() => on3.got.length === 490, 8000, 'replay through the hub to the other edge');
    expect(new Set(on3.texts()).size).toBe(490);
  });
});

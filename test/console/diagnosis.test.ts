/**
 * "Why is this message not moving?" on the incidents users come to
 * reproduce: each is set up for real and the diagnosis must name it.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { eventually, sleep } from '../helpers/broker.js';
import { broker, bridgesUp, client, sendAll, settle, url } from '../network/helpers.js';

async function why(b: Broker, destination: string): Promise<{ pending: number; consumers: { local: number; network: number }; findings: string[] }> {
  const res = await fetch(`http://127.0.0.1:${b.adminPort}/api/broker/why`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ destination }) });
  return res.json() as never;
}

const withAdmin = { admin: 'http://127.0.0.1:0' };

describe('why is this message not moving', () => {
  it('no queue, and a queue nobody consumes', async () => {
    const b = await broker('solo', [], withAdmin);
    expect((await why(b, 'queue://ghost')).findings).toEqual(['There is no queue ghost on solo: nothing was sent to it here, or it was deleted.']);
    await sendAll(b, '/queue/orders', 5);
    const d = await why(b, 'orders');
    expect(d).toMatchObject({ pending: 5, consumers: { local: 0, network: 0 } });
    expect(d.findings[0]).toMatch(/^5 messages wait on orders and nobody wants them: no consumer on solo/);
  });

  it('every consumer\'s prefetch is full of unacknowledged messages', async () => {
    const b = await broker('solo', [], withAdmin);
    const c = await client(b);
    await c.subscribe('/queue/orders', () => {}, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '2' } });
    await sendAll(b, '/queue/orders', 5);
    await settle(100);
    expect((await why(b, 'orders')).findings).toEqual([expect.stringMatching(/^Every consumer's prefetch is full \(1 consumers, none has room\)/)]);
  });

  it('the consumers\' selectors match none of the waiting messages', async () => {
    const b = await broker('solo', [], withAdmin);
    const c = await client(b);
    await c.subscribe('/queue/orders', () => {}, { headers: { selector: "region = 'us'" } });
    await sendAll(b, '/queue/orders', 3, { region: 'eu' });
    await settle(100);
    expect((await why(b, 'orders')).findings).toEqual([expect.stringMatching(/^None of the 1 consumers with room takes the first 3 waiting messages: their selectors/)]);
  });

  it('producers held by producer flow control', async () => {
    const b = await broker('solo', [], { ...withAdmin, policyEntries: [{ queue: 'small', memoryLimit: '16 kb' as unknown as number }] });
    const c = await client(b);
    for (let i = 0; i < 40; i++) c.send('/queue/small', 'x'.repeat(1024));
    await eventually(() => {
      const q = b.router.queues.get('queue://small');
      return q !== undefined && b.router.flowControl.isHolding(q.destination);
    }, 5000, 'the producer held');
    expect((await why(b, 'small')).findings[0]).toMatch(/^Producers to small are held by producer flow control/);
  });

  it('the only consumers are behind a stalled bridge', async () => {
    const edge = await broker('edge', [], withAdmin);
    const hub = await broker('hub', [`static:(${url(edge)})?progressTimeout=0`], withAdmin);
    await bridgesUp(hub);
    const c = await client(edge);
    await c.subscribe('/queue/orders', () => {});
    await eventually(() => (hub.router.queues.get('queue://orders')?.consumerCount ?? 0) > 0, 5000, 'the edge\'s demand on the hub');
    await fetch(`http://127.0.0.1:${hub.adminPort}/api/network/stall`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await sendAll(hub, '/queue/orders', 20);
    await sleep(200);
    const d = await why(hub, 'orders');
    expect(d.consumers).toEqual({ local: 0, network: 1 });
    expect(d.findings).toContainEqual(expect.stringMatching(/^The only consumers of orders are on edge, reached through bridge \S+, which is up with a stall fault/));
  });

  it('messages left on an edge whose consumers went away, with replayWhenNoConsumers off', async () => {
    const hub = await broker('hub', [], withAdmin);
    const edge = await broker('edge', [`static:(${url(hub)})?duplex=true&replayWhenNoConsumers=false`], withAdmin);
    await bridgesUp(edge);
    const c = await client(edge);
    let taken = 0;
    const sub = await c.subscribe('/queue/parked', () => void taken++, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    await settle();
    await sendAll(hub, '/queue/parked', 50);
    await eventually(() => (edge.router.queues.get('queue://parked')?.size ?? 0) + taken >= 50 && hub.router.queues.get('queue://parked')!.size === 0, 5000, 'the edge pulling everything');
    await sub.unsubscribe();
    await settle();
    const d = await why(edge, 'parked');
    expect(d.findings).toContainEqual(expect.stringMatching(/nobody wants them/));
    expect(d.findings).toContainEqual(expect.stringMatching(/^Some came over a bridge from hub: their consumers there have left\. With replayWhenNoConsumers=false/));
  });
});

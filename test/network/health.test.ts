import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../helpers/broker.js';
import { broker, bridgesUp, consumer, sendAll, settle, url } from './helpers.js';

describe('bridge health and faults', () => {
  it('tears down a bridge whose forwarded messages go unacknowledged (progress watchdog), even while heart-beats would not notice', async () => {
    const hub = await broker('broker1');
    const e2 = await broker('broker2', [`static:(${url(hub)})?bridgeHeartBeat=30000&progressTimeout=800&initialReconnectDelay=100`]);
    await bridgesUp(e2);
    const onHub = await consumer(hub, '/queue/up');
    await settle();
    const network = e2.status().network as { bridges: Array<{ stalls: number }> };
    expect(network.bridges[0].stalls).toBe(0);
    // Every chunk held 3 s: receipts come far later than the 0.8 s allowed.
    const ext = e2.extension('network')!;
    await ext.command('delay', { ms: '3000' });
    await sendAll(e2, '/queue/up', 20);
    await eventually(() => (e2.status().network as { bridges: Array<{ stalls: number }> }).bridges[0].stalls === 1, 5000, 'the watchdog');
    await eventually(() => new Set(onHub.texts()).size === 20, 10_000, 'every message after reconnecting');
  });

  it('keeps messages a dropped bridge had taken for that broker, for networkRedeliveryAffinity, then lets anyone have them', async () => {
    const hub = await broker('broker1', [], { policy: { networkRedeliveryAffinity: 1500 } });
    const e2 = await broker('broker2', [`static:(${url(hub)})?duplex=true`]);
    await bridgesUp(e2);
    const onEdge = await consumer(e2, '/queue/aff');
    await settle();
    const ext = e2.extension('network')!;
    // Stalled: the hub hands these to the edge's pull subscription, and they never arrive.
    await ext.command('stall', {});
    await sendAll(hub, '/queue/aff', 5, { persistent: 'true' });
    await eventually(() => hub.router.queues.get('queue://aff')!.stats.dispatched === 5);
    // The edge goes away for longer than the window.
    await e2.stop();
    await eventually(() => hub.router.queues.get('queue://aff')!.pending.size === 5, 3000, 'the hub getting them back');
    const local = await consumer(hub, '/queue/aff');
    await sleep(700);
    // The edge might have them: within the window they wait for it.
    expect(local.got).toHaveLength(0);
    await eventually(() => local.got.length === 5, 5000, 'the five after the window');
    expect(local.got.every((m) => m.redelivered)).toBe(true);
    expect(onEdge.got).toHaveLength(0);
  });
});

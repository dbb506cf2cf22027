import { describe, expect, it } from 'vitest';
import { eventually, sleep } from '../helpers/broker.js';
import { freePort } from '../helpers/process.js';
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
    await eventually(() => hub.router.queues.get('queue://aff')!.size === 5, 3000, 'the hub getting them back');
    const local = await consumer(hub, '/queue/aff');
    await sleep(700);
    // The edge might have them: within the window they wait for it.
    expect(local.got).toHaveLength(0);
    await eventually(() => local.got.length === 5, 5000, 'the five after the window');
    expect(local.got.every((m) => m.redelivered)).toBe(true);
    expect(onEdge.got).toHaveLength(0);
  });
});

describe('bridge faults and recovery', () => {
  it('finds a stall (frames held, heart-beats flowing) with the progress watchdog, not the heart-beat, and re-forwards with redelivered:true', async () => {
    const hub = await broker('broker1');
    const e2 = await broker('broker2', [`static:(${url(hub)})?duplex=true&progressTimeout=1500&bridgeHeartBeat=200`]);
    await bridgesUp(e2);
    const onEdge = await consumer(e2, '/queue/held');
    await settle();
    const ext = e2.extension('network')!;
    await ext.command('stall', {});
    await sendAll(hub, '/queue/held', 5, { persistent: 'true' });
    const bridge = () => (e2.status().network as { bridges: Array<{ stalls: number; lastError: string | null; state: string }> }).bridges[0];
    await eventually(() => bridge().stalls === 1, 5000, 'the watchdog to find the stall');
    // Heart-beats flowed all along: what tore the bridge down was the watchdog.
    expect(bridge().lastError).toMatch(/^bridge stalled: (a progress probe unanswered|.* unanswered|\d+ messages forwarded)/);
    await eventually(() => onEdge.got.length === 5, 5000, 'the five after the bridge came back');
    expect(onEdge.got.every((m) => m.redelivered)).toBe(true);
    expect(new Set(onEdge.texts()).size).toBe(5);
  });

  it('re-forms within about a second of the remote coming back, not at the next back-off step', async () => {
    const port = await freePort();
    let hub = await broker('broker1', [], { transportConnectors: [`stomp://127.0.0.1:${port}`] });
    const e2 = await broker('broker2', [`static:(stomp://127.0.0.1:${port})?duplex=true&initialReconnectDelay=30000`]);
    await bridgesUp(e2);
    await hub.stop();
    const state = () => (e2.status().network as { bridges: Array<{ state: string }> }).bridges[0].state;
    await eventually(() => state() === 'backoff', 5000, 'the bridge to wait out a 30 s back-off step');
    hub = await broker('broker1', [], { transportConnectors: [`stomp://127.0.0.1:${port}`] });
    const back = Date.now();
    await eventually(() => state() === 'up', 10_000, 'the bridge up again');
    expect(Date.now() - back).toBeLessThan(5000);
    const c = await consumer(e2, '/queue/after');
    await settle();
    await sendAll(hub, '/queue/after', 3);
    await eventually(() => c.got.length === 3);
  });
});

describe('the NetworkBridge advisory', () => {
  it("carries ActiveMQ's headers and BrokerInfo body, replays existing bridges, and says when one stops", async () => {
    const hub = await broker('broker1');
    const e2 = await broker('broker2', [`static:(${url(hub)})?duplex=true`]);
    await bridgesUp(e2);
    const advisories = await consumer(hub, '/topic/ActiveMQ.Advisory.NetworkBridge');
    await eventually(() => advisories.got.length === 1, 3000, 'the replay of the existing bridge');
    const started = advisories.got[0];
    expect(started.headers).toMatchObject({ type: 'Advisory', started: 'true', createdByDuplex: 'true', originBrokerName: 'broker1', transformation: 'jms-advisory-json' });
    expect(started.headers.originBrokerURL).toBe(`stomp://127.0.0.1:${hub.port()}`);
    expect(started.headers.remoteIp).toMatch(new RegExp(`^tcp:///127\\.0\\.0\\.1:\\d+@${hub.port()}$`));
    const info = JSON.parse(started.text).BrokerInfo;
    expect(info).toMatchObject({ brokerName: 'broker2', networkConnection: true, duplexConnection: true, brokerURL: `stomp://127.0.0.1:${e2.port()}` });
    expect(info.brokerId.value).toBe(e2.brokerId);
    expect(info.networkProperties).toMatch(/^\{.*duplex=true.*networkTTL|messageTTL=1.*\}$/);
    await e2.stop();
    await eventually(() => advisories.got.length === 2);
    expect(advisories.got[1].headers.started).toBe('false');
    expect(advisories.got[1].headers.createdByDuplex).toBeUndefined();
  });
});

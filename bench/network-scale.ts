/**
 * The seed's shape at its scale: a hub with producers only, two edges each
 * holding 2,000 consumer connections across 100 queues. How fast the hub's
 * messages reach the edges, how evenly they spread over edges and
 * consumers, how late they arrive at a steady rate, and what each broker
 * costs (CPU per message, RSS).
 */
import { loadavg } from 'node:os';
import { consume, DeliveryLedger, LoadConnection, percentile, produce } from './load.js';
import { type BrokerTarget, freePort, type TargetOptions } from './targets.js';

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

export interface ScaleResult {
  target: string;
  queues: number;
  consumersPerEdge: number;
  messages: number;
  /** Messages per second from the first SEND to the last delivery, unthrottled. */
  rate: number;
  /** Messages each edge delivered. */
  perEdge: number[];
  /** Deliveries per consumer: fewest, median, most. */
  perConsumer: { min: number; median: number; max: number };
  /** Broker CPU per message it handled (the hub: every message; an edge: those it delivered; NaN for an edge that got none), µs. */
  cpuMicros: { hub: number; edges: number[] };
  /** At a steady `latencyRate`: producer → consumer. */
  latencyRate: number;
  p50Ms: number;
  p99Ms: number;
  peakRss: { hub: number; edges: number[] };
  verified: boolean;
  load: string;
}

/** Opens `n` connections to `port`, `batch` at a time. */
async function openMany(port: number, n: number, batch = 100): Promise<LoadConnection[]> {
  const out: LoadConnection[] = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => LoadConnection.open(port)))));
  return out;
}

/** One producer per queue on the hub; `rate` 0: as fast as the hub takes them. */
async function produceAll(hub: BrokerTarget, queues: number, perQueue: number, rate: number): Promise<void> {
  const conns = await openMany(hub.port, queues);
  await Promise.all(conns.map((c, q) => produce(c, { destination: `/queue/seed.${q}`, count: perQueue, size: 256, producer: q, rate: rate / queues })));
  for (const c of conns) c.close();
}

export async function networkScaleScenario(name: string, start: Start, isActiveMQ: boolean, queues: number, consumersPerEdge: number, perQueue: number, latencySeconds: number, fixedLatencyRate = 0): Promise<ScaleResult> {
  const openwire = isActiveMQ ? await freePort() : undefined;
  const hub = await start({ persistent: isActiveMQ, storeDir: '', instance: 'scale-hub', openwirePort: openwire });
  const link = isActiveMQ ? `static:(tcp://127.0.0.1:${openwire})` : `static:(stomp://127.0.0.1:${hub.port})?duplex=true`;
  const edges: BrokerTarget[] = [];
  const load0 = loadavg()[0];
  const peakRss = { hub: 0, edges: [0, 0] };
  const rssTimer = setInterval(() => {
    peakRss.hub = Math.max(peakRss.hub, hub.rss());
    edges.forEach((e, i) => (peakRss.edges[i] = Math.max(peakRss.edges[i], e.rss())));
  }, 500);
  const consumers: LoadConnection[] = [];
  try {
    for (const instance of ['scale-edge2', 'scale-edge3']) edges.push(await start({ persistent: isActiveMQ, storeDir: '', instance, network: [link], fileLimit: 20_000 }));
    const counts = new Uint32Array(2 * consumersPerEdge);
    let ledger = new DeliveryLedger(queues, perQueue);
    let latency: DeliveryLedger | null = null;
    let expected = queues * perQueue;
    let finish: () => void = () => {};
    const record = (slot: number) => (body: Buffer) => {
      counts[slot]++;
      (latency ?? ledger).record(body);
      if ((latency ?? ledger).received === expected) finish();
    };
    for (let e = 0; e < 2; e++) {
      const conns = await openMany(edges[e].port, consumersPerEdge);
      consumers.push(...conns);
      await Promise.all(conns.map((c, j) => consume(c, { destination: `/queue/seed.${j % queues}`, ack: 'auto', id: String(j) }, record(e * consumersPerEdge + j))));
    }
    // Let the edges' demand reach the hub over the bridges.
    await new Promise((r) => setTimeout(r, 5000));

    const cpu0 = [hub, ...edges].map((b) => b.cpuSeconds());
    let done = new Promise<void>((r) => (finish = r));
    const t0 = performance.now();
    await produceAll(hub, queues, perQueue, 0);
    await Promise.race([done, new Promise((r) => setTimeout(r, 300_000).unref())]);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = [hub, ...edges].map((b, i) => b.cpuSeconds() - cpu0[i]);
    const perEdge = [0, 1].map((e) => counts.subarray(e * consumersPerEdge, (e + 1) * consumersPerEdge).reduce((a, b) => a + b, 0));
    const sorted = [...counts].sort((a, b) => a - b);
    const verified = ledger.missing === 0 && ledger.duplicates === 0;
    const rate = ledger.received / seconds;

    // Latency at a steady half of the rate just measured, or at the rate asked for.
    const latencyRate = Math.max(queues, Math.round((fixedLatencyRate || rate / 2) / queues) * queues);
    const latencyPerQueue = Math.round((latencyRate * latencySeconds) / queues);
    latency = new DeliveryLedger(queues, latencyPerQueue, true);
    expected = queues * latencyPerQueue;
    done = new Promise<void>((r) => (finish = r));
    await produceAll(hub, queues, latencyPerQueue, latencyRate);
    await Promise.race([done, new Promise((r) => setTimeout(r, 120_000).unref())]);
    const lat = latency.latenciesMicros.map((us) => us / 1000).sort((a, b) => a - b);
    ledger = latency;
    return {
      target: name,
      queues,
      consumersPerEdge,
      messages: queues * perQueue,
      rate,
      perEdge,
      perConsumer: { min: sorted[0], median: sorted[sorted.length >> 1], max: sorted[sorted.length - 1] },
      cpuMicros: { hub: (cpu[0] * 1e6) / (queues * perQueue), edges: perEdge.map((n, i) => (n > 0 ? (cpu[i + 1] * 1e6) / n : NaN)) },
      latencyRate,
      p50Ms: percentile(lat, 50),
      p99Ms: percentile(lat, 99),
      peakRss,
      verified: verified && ledger.missing === 0 && ledger.duplicates === 0,
      load: `${load0.toFixed(2)}→${loadavg()[0].toFixed(2)}`,
    };
  } finally {
    clearInterval(rssTimer);
    for (const c of consumers) c.close();
    for (const b of [...edges, hub]) await b.stop();
  }
}

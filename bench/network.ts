/** Network of brokers: the seed's hub and two edges, against one broker with the same producer and consumers. */
import { consume, DeliveryLedger, LoadConnection, produce } from './load.js';
import { type BrokerTarget, freePort, type TargetOptions } from './targets.js';

export interface NetworkResult {
  target: string;
  topology: 'single broker' | 'hub → 2 edges';
  /** The producer's fixed rate (msg/s), or 0: as fast as the broker takes them. */
  paced: number;
  messages: number;
  rate: number;
  verified: boolean;
  split: string;
  /** Broker CPU per message it handled, µs: the single broker; or the hub (every message) and each edge (the messages its consumer got; NaN when none). */
  cpuMicros: number[];
}

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

async function flow(producerPort: number, consumerPorts: number[], count: number, size: number, destination: string, brokers: BrokerTarget[], rate = 0): Promise<{ rate: number; ledger: DeliveryLedger; perConsumer: number[]; cpuSeconds: number[] }> {
  const ledger = new DeliveryLedger(1, count);
  const perConsumer = consumerPorts.map(() => 0);
  const conns = await Promise.all(consumerPorts.map((p) => LoadConnection.open(p)));
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  await Promise.all(
    conns.map((c, i) =>
      consume(c, { destination, ack: 'auto', id: String(i) }, (body) => {
        perConsumer[i]++;
        ledger.record(body);
        if (ledger.received === count) finish();
      }),
    ),
  );
  // Let demand reach the hub over the bridges.
  await new Promise((r) => setTimeout(r, 1500));
  const p = await LoadConnection.open(producerPort);
  const cpu0 = brokers.map((b) => b.cpuSeconds());
  const t0 = performance.now();
  await produce(p, { destination, count, size, producer: 0, rate });
  await Promise.race([done, new Promise((r) => setTimeout(r, 180_000).unref())]);
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = brokers.map((b, i) => b.cpuSeconds() - cpu0[i]);
  for (const c of [...conns, p]) c.close();
  return { rate: ledger.received / seconds, ledger, perConsumer, cpuSeconds };
}

/**
 * The single broker and the hub with its edges, first as fast as they go,
 * then both at the same fixed rate (60 % of the network's): CPU per message
 * compared at equal load, where neither holds a backlog.
 */
export async function networkScenarios(name: string, start: Start, isActiveMQ: boolean, count: number, warmup: number): Promise<NetworkResult[]> {
  const size = 256;
  const result = (topology: NetworkResult['topology'], paced: number, r: Awaited<ReturnType<typeof flow>>, cpuMicros: number[]): NetworkResult => ({
    target: name,
    topology,
    paced,
    messages: r.ledger.received,
    rate: r.rate,
    verified: r.ledger.missing === 0 && r.ledger.duplicates === 0,
    split: r.perConsumer.join(' / '),
    cpuMicros,
  });
  // One broker, one producer, two consumers.
  const single = async (paced: number): Promise<NetworkResult> => {
    const b = await start({ persistent: isActiveMQ, storeDir: '', instance: 'single' });
    try {
      await flow(b.port, [b.port, b.port], warmup, size, '/queue/bench.warm', [b]);
      const r = await flow(b.port, [b.port, b.port], paced ? Math.min(count, paced * 5) : count, size, '/queue/bench.single', [b], paced);
      return result('single broker', paced, r, [(r.cpuSeconds[0] * 1e6) / r.ledger.received]);
    } finally {
      await b.stop();
    }
  };
  const results = [await single(0)];
  // The seed: hub broker1, edges broker2 and broker3 with duplex connectors to it.
  const openwire = isActiveMQ ? await freePort() : undefined;
  const hub = await start({ persistent: isActiveMQ, storeDir: '', instance: 'broker1', openwirePort: openwire });
  const link = isActiveMQ ? `static:(tcp://127.0.0.1:${openwire})` : `static:(stomp://127.0.0.1:${hub.port})?duplex=true`;
  const edges: BrokerTarget[] = [];
  let paced = 0;
  try {
    edges.push(await start({ persistent: isActiveMQ, storeDir: '', instance: 'broker2', network: [link] }));
    edges.push(await start({ persistent: isActiveMQ, storeDir: '', instance: 'broker3', network: [link] }));
    const brokers = [hub, ...edges];
    await flow(hub.port, edges.map((e) => e.port), warmup, size, '/queue/bench.warm', brokers);
    for (const rate of [0, -1]) {
      if (rate < 0) paced = Math.max(1000, Math.round((results[1].rate * 0.6) / 1000) * 1000);
      const r = await flow(hub.port, edges.map((e) => e.port), paced ? Math.min(count, paced * 5) : count, size, `/queue/bench.network${paced}`, brokers, paced);
      results.push(result('hub → 2 edges', paced, r, [(r.cpuSeconds[0] * 1e6) / r.ledger.received, ...r.perConsumer.map((n, i) => (n > 0 ? (r.cpuSeconds[i + 1] * 1e6) / n : NaN))]));
    }
  } finally {
    for (const b of [...edges, hub]) await b.stop();
  }
  results.push(await single(paced));
  return results;
}

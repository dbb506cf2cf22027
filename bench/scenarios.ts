/** Benchmark scenarios. Each runs against one broker target and returns figures plus an exactly-once check. */
import { type BrokerTarget } from './targets.js';
import { consume, DeliveryLedger, LoadConnection, percentile, produce } from './load.js';

export interface ScenarioResult {
  scenario: string;
  target: string;
  messages: number;
  seconds: number;
  rate: number;
  /** Broker CPU microseconds per message. */
  cpuMicrosPerMessage: number;
  p50Millis?: number;
  p99Millis?: number;
  /** Exactly once: every message received, none twice. */
  verified: boolean;
  detail: string;
  extra?: Record<string, number | string>;
}

export interface Scenario {
  name: string;
  /** Which group the issue tracks it under. */
  group: 'throughput' | 'latency' | 'connections' | 'persistence' | 'network';
  run(target: BrokerTarget, scale: number): Promise<ScenarioResult>;
}

let runSeq = 0;

interface FlowSpec {
  kind: 'queue' | 'topic';
  producers: number;
  consumers: number;
  perProducer: number;
  size: number;
  ack?: 'auto' | 'client-individual';
  persistent?: boolean;
  receiptEvery?: number;
  rate?: number;
  latency?: boolean;
}

/** Producers send flat out (or at `rate`); consumers count and check; timing runs from first send to last receipt. */
async function flow(name: string, target: BrokerTarget, spec: FlowSpec): Promise<ScenarioResult> {
  const destination = `/${spec.kind}/bench.${name.replace(/[^a-z0-9]+/gi, '-')}.${++runSeq}`;
  const ledgers = Array.from({ length: spec.kind === 'topic' ? spec.consumers : 1 }, () => new DeliveryLedger(spec.producers, spec.perProducer, spec.latency));
  const consumerConns = await Promise.all(Array.from({ length: spec.consumers }, () => LoadConnection.open(target.port)));
  const producerConns = await Promise.all(Array.from({ length: spec.producers }, () => LoadConnection.open(target.port)));
  const expectedPerLedger = spec.producers * spec.perProducer;
  let doneResolve!: () => void;
  const done = new Promise<void>((r) => (doneResolve = r));
  const check = () => {
    if (ledgers.every((l) => l.received >= expectedPerLedger)) doneResolve();
  };
  await Promise.all(
    consumerConns.map((c, i) =>
      consume(c, { destination, ack: spec.ack ?? 'auto', id: String(i) }, (body) => {
        ledgers[spec.kind === 'topic' ? i : 0].record(body);
        check();
      }),
    ),
  );
  const cpu0 = target.cpuSeconds();
  const loadCpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    producerConns.map((p, i) =>
      produce(p, { destination, count: spec.perProducer, size: spec.size, producer: i, persistent: spec.persistent, receiptEvery: spec.receiptEvery, rate: spec.rate }),
    ),
  );
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000).unref());
  const outcome = await Promise.race([done, timeout]);
  // Let late duplicates show up before judging.
  await new Promise((r) => setTimeout(r, 200));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = target.cpuSeconds() - cpu0;
  const loadCpu = process.cpuUsage(loadCpu0);
  const loadCpuShare = (loadCpu.user + loadCpu.system) / 1e6 / seconds;
  for (const c of [...consumerConns, ...producerConns]) c.close();
  const received = ledgers.reduce((a, l) => a + l.received, 0);
  const duplicates = ledgers.reduce((a, l) => a + l.duplicates, 0);
  const missing = ledgers.reduce((a, l) => a + l.missing, 0);
  const latencies = spec.latency ? ledgers.flatMap((l) => l.latenciesMicros).sort((a, b) => a - b) : [];
  return {
    scenario: name,
    target: target.name,
    messages: received,
    seconds: outcome === 'timeout' ? NaN : seconds,
    rate: outcome === 'timeout' ? 0 : received / seconds,
    cpuMicrosPerMessage: (cpu * 1e6) / Math.max(1, received),
    p50Millis: spec.latency ? percentile(latencies, 50) / 1000 : undefined,
    p99Millis: spec.latency ? percentile(latencies, 99) / 1000 : undefined,
    verified: missing === 0 && duplicates === 0,
    detail: `received ${received}, missing ${missing}, duplicates ${duplicates}${outcome === 'timeout' ? ', TIMED OUT' : ''}`,
    extra: { brokerCpu: `${Math.round((cpu / seconds) * 100)}%`, loadToolCpu: `${Math.round(loadCpuShare * 100)}%` },
  };
}

const n = (base: number, scale: number) => Math.max(1, Math.round(base * scale));

export const THROUGHPUT_SCENARIOS: Scenario[] = [
  { name: 'queue 1→1 256 B', group: 'throughput', run: (t, s) => flow('queue 1→1 256 B', t, { kind: 'queue', producers: 1, consumers: 1, perProducer: n(200_000, s), size: 256 }) },
  { name: 'queue 1→1 4 KiB', group: 'throughput', run: (t, s) => flow('queue 1→1 4 KiB', t, { kind: 'queue', producers: 1, consumers: 1, perProducer: n(60_000, s), size: 4096 }) },
  { name: 'queue 4→4 256 B', group: 'throughput', run: (t, s) => flow('queue 4→4 256 B', t, { kind: 'queue', producers: 4, consumers: 4, perProducer: n(60_000, s), size: 256 }) },
  { name: 'queue 4→4 4 KiB', group: 'throughput', run: (t, s) => flow('queue 4→4 4 KiB', t, { kind: 'queue', producers: 4, consumers: 4, perProducer: n(15_000, s), size: 4096 }) },
  { name: 'topic 1→10 256 B', group: 'throughput', run: (t, s) => flow('topic 1→10 256 B', t, { kind: 'topic', producers: 1, consumers: 10, perProducer: n(30_000, s), size: 256 }) },
  {
    name: 'queue 1→1 client-individual ACK',
    group: 'throughput',
    run: (t, s) => flow('queue 1→1 client-individual ACK', t, { kind: 'queue', producers: 1, consumers: 1, perProducer: n(100_000, s), size: 256, ack: 'client-individual' }),
  },
];

export const LATENCY_SCENARIOS: Scenario[] = [2000, 10_000].map((rate) => ({
  name: `latency at ${rate} msg/s`,
  group: 'latency' as const,
  run: (t: BrokerTarget, s: number) => flow(`latency at ${rate} msg/s`, t, { kind: 'queue', producers: 1, consumers: 1, perProducer: n(rate * 10, s), size: 256, rate, latency: true }),
}));

/** Warms a JVM (and V8) before measuring. */
export async function warmUp(target: BrokerTarget): Promise<void> {
  await flow('warm-up', target, { kind: 'queue', producers: 2, consumers: 2, perProducer: 50_000, size: 256 });
  await flow('warm-up', target, { kind: 'topic', producers: 1, consumers: 4, perProducer: 20_000, size: 256 });
  await flow('warm-up', target, { kind: 'queue', producers: 1, consumers: 1, perProducer: 20_000, size: 256, ack: 'client-individual' });
}

/**
 * Scheduled delivery (schedulerSupport): how late scheduled messages fire at
 * a steady rate, and what a million waiting jobs cost (memory, CPU while
 * they wait, a restart).
 */
import { loadavg } from 'node:os';
import { consume, DeliveryLedger, LoadConnection, percentile, produce } from './load.js';
import type { BrokerTarget, TargetOptions } from './targets.js';

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

export interface SchedulerAccuracyResult {
  target: string;
  rate: number;
  messages: number;
  delayMs: number;
  /** Arrival minus (send + delay), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  missing: number;
  duplicates: number;
  cpuMicrosPerMessage: number;
  /** The same load without the delay header, on the same broker: CPU per message of plain persistent messages. */
  plainCpuMicrosPerMessage: number;
  load: string;
}

/** One producer sends persistent 256 B messages at `rate` per second, each with `headers`; one consumer takes them. Latencies (µs) and broker CPU. */
async function steadyLoad(target: BrokerTarget, destination: string, rate: number, messages: number, headers: Record<string, string>, waitMs: number) {
  const ledger = new DeliveryLedger(1, messages, true);
  const consumer = await LoadConnection.open(target.port);
  let finish!: () => void;
  const all = new Promise<void>((r) => (finish = r));
  await consume(consumer, { destination, ack: 'auto' }, (body) => {
    ledger.record(body);
    if (ledger.received === messages) finish();
  });
  const producer = await LoadConnection.open(target.port);
  const cpu0 = target.cpuSeconds();
  await produce(producer, { destination, count: messages, size: 256, producer: 0, persistent: true, receiptEvery: 100, rate, headers });
  await Promise.race([all, new Promise((r) => setTimeout(r, waitMs))]);
  const cpu = target.cpuSeconds() - cpu0;
  producer.close();
  consumer.close();
  return { ledger, cpuMicrosPerMessage: (cpu * 1e6) / messages };
}

/** Persistent 256 B messages at `rate` per second for `seconds`, first plain, then each delayed `delayMs`: how late each scheduled one arrives, and the CPU both cost. */
export async function schedulerAccuracy(name: string, start: Start, storeDir: string, rate: number, seconds: number, delayMs: number): Promise<SchedulerAccuracyResult> {
  const target = await start({ persistent: true, storeDir, schedulerSupport: true });
  const load0 = loadavg()[0];
  try {
    const messages = rate * seconds;
    const plain = await steadyLoad(target, '/queue/bench.plain', rate, messages, {}, 60_000);
    const scheduled = await steadyLoad(target, '/queue/bench.scheduled', rate, messages, { AMQ_SCHEDULED_DELAY: String(delayMs) }, delayMs + 60_000);
    const errors = scheduled.ledger.latenciesMicros.map((us) => us / 1000 - delayMs).sort((a, b) => a - b);
    return {
      target: name,
      rate,
      messages,
      delayMs,
      p50Ms: percentile(errors, 50),
      p99Ms: percentile(errors, 99),
      maxMs: errors.at(-1) ?? NaN,
      missing: scheduled.ledger.missing,
      duplicates: scheduled.ledger.duplicates,
      cpuMicrosPerMessage: scheduled.cpuMicrosPerMessage,
      plainCpuMicrosPerMessage: plain.cpuMicrosPerMessage,
      load: `${load0.toFixed(2)}→${loadavg()[0].toFixed(2)}`,
    };
  } finally {
    await target.stop();
  }
}

export interface SchedulerCapacityResult {
  target: string;
  jobs: number;
  scheduleSeconds: number;
  /** Broker CPU while scheduling, per job. */
  cpuMicrosPerJob: number;
  rssBefore: number;
  rssAfter: number;
  /** Broker CPU over 10 s with every job waiting, as a share of one core. */
  idleCpuPercent: number;
  /** Stop, then start on the same store until it takes connections again. */
  restartSeconds: number;
  rssAfterRestart: number;
  load: string;
}

/** `jobs` persistent 256 B messages scheduled an hour ahead by 4 producers; then the broker holds them, and restarts with them. */
export async function schedulerCapacity(name: string, start: Start, storeDir: string, jobs: number): Promise<SchedulerCapacityResult> {
  const options: TargetOptions = { persistent: true, storeDir, schedulerSupport: true };
  let target = await start(options);
  const load0 = loadavg()[0];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const rssBefore = target.rss();
    const producers = 4;
    const per = Math.ceil(jobs / producers);
    const conns = await Promise.all(Array.from({ length: producers }, () => LoadConnection.open(target.port)));
    const cpu0 = target.cpuSeconds();
    const t0 = performance.now();
    await Promise.all(conns.map((c, i) => produce(c, { destination: '/queue/bench.jobs', count: per, size: 256, producer: i, persistent: true, receiptEvery: 1000, headers: { AMQ_SCHEDULED_DELAY: '3600000' } })));
    const scheduleSeconds = (performance.now() - t0) / 1000;
    const cpuScheduling = target.cpuSeconds() - cpu0;
    for (const c of conns) c.close();
    await new Promise((r) => setTimeout(r, 2000));
    const rssAfter = target.rss();
    const idle0 = target.cpuSeconds();
    await new Promise((r) => setTimeout(r, 10_000));
    const idleCpuPercent = ((target.cpuSeconds() - idle0) / 10) * 100;
    await target.stop();
    const r0 = performance.now();
    target = await start({ ...options, keepStore: true });
    const restartSeconds = (performance.now() - r0) / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    return {
      target: name,
      jobs: producers * per,
      scheduleSeconds,
      cpuMicrosPerJob: (cpuScheduling * 1e6) / (producers * per),
      rssBefore,
      rssAfter,
      idleCpuPercent,
      restartSeconds,
      rssAfterRestart: target.rss(),
      load: `${load0.toFixed(2)}→${loadavg()[0].toFixed(2)}`,
    };
  } finally {
    await target.stop();
  }
}

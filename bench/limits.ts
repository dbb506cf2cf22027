/**
 * Limits: a backlog far larger than memory (RSS while it is written and
 * drained), and producer flow control (a producer held at the memory limit
 * while a consumer drains the queue). Both brokers with the same memory limit.
 */
import { consume, DeliveryLedger, LoadConnection, produce } from './load.js';
import { drain, sendPersistent } from './persistence.js';
import type { BrokerTarget, TargetOptions } from './targets.js';

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

export interface RssPoint {
  phase: 'write' | 'drain';
  /** Since the scenario began. */
  seconds: number;
  rss: number;
}

export interface BacklogResult {
  target: string;
  messages: number;
  memoryLimit: string;
  writeSeconds: number;
  drainSeconds: number;
  peakRssWrite: number;
  peakRssDrain: number;
  curve: RssPoint[];
  verified: boolean;
}

/** RSS sampled every second while `run` runs; returns the samples and the run's result. */
async function sampled<T>(target: BrokerTarget, phase: RssPoint['phase'], t0: number, run: () => Promise<T>): Promise<{ value: T; points: RssPoint[] }> {
  const points: RssPoint[] = [];
  const sample = () => points.push({ phase, seconds: (performance.now() - t0) / 1000, rss: target.rss() });
  sample();
  const timer = setInterval(sample, 1000);
  try {
    return { value: await run(), points };
  } finally {
    clearInterval(timer);
    sample();
  }
}

/** `messages` pending 1 KiB persistent messages written by 4 producers with nobody consuming, then drained: RSS throughout. */
export async function backlogScenario(name: string, start: Start, storeDir: string, messages: number, memoryLimit: string): Promise<BacklogResult> {
  const target = await start({ persistent: true, storeDir, memoryLimit });
  const producers = 4;
  const per = Math.ceil(messages / producers);
  try {
    const t0 = performance.now();
    const written = await sampled(target, 'write', t0, () => sendPersistent(target, '/queue/bench.backlog', producers, per, 1000, 1024));
    const drained = await sampled(target, 'drain', t0, () => drain(target, '/queue/bench.backlog', producers, per));
    const curve = [...written.points, ...drained.points];
    const peak = (ps: RssPoint[]) => Math.max(...ps.map((p) => p.rss));
    const ledger = drained.value.ledger;
    return {
      target: name,
      messages: producers * per,
      memoryLimit,
      writeSeconds: written.value,
      drainSeconds: drained.value.seconds,
      peakRssWrite: peak(written.points),
      peakRssDrain: peak(drained.points),
      curve,
      verified: ledger.missing === 0 && ledger.duplicates === 0,
    };
  } finally {
    await target.stop();
  }
}

export interface FlowControlResult {
  target: string;
  messages: number;
  memoryLimit: string;
  /** Receipted SENDs when the producer stopped getting receipts (null: it never was held). */
  heldAt: number | null;
  /** A new client's CONNECT → CONNECTED while the producer was held. */
  connectMillisWhileHeld: number | null;
  /** The consumer's rate while it drained the full queue with the producer going on. */
  drainRate: number;
  producerFinished: boolean;
  peakRss: number;
  verified: boolean;
}

/**
 * Non-persistent 1 KiB messages from one producer (a receipt every 100th)
 * with nobody consuming, under a small memory limit: where the producer is
 * held, whether a new client still connects, then a consumer drains at what
 * rate while the producer goes on.
 */
export async function flowControlScenario(name: string, start: Start, storeDir: string, messages: number, memoryLimit: string): Promise<FlowControlResult> {
  const target = await start({ persistent: true, storeDir, memoryLimit });
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, target.rss())), 500);
  try {
    const producer = await LoadConnection.open(target.port);
    const progress = { receipted: 0 };
    let finished = false;
    const producing = produce(producer, { destination: '/queue/bench.pfc', count: messages, size: 1024, producer: 0, receiptEvery: 100, progress }).then(() => (finished = true));
    // Held: no receipt for 3 s.
    let last = -1;
    let still = 0;
    while (!finished && still < 3) {
      await new Promise((r) => setTimeout(r, 1000));
      still = progress.receipted === last ? still + 1 : 0;
      last = progress.receipted;
    }
    const heldAt = finished ? null : progress.receipted;
    let connectMillisWhileHeld: number | null = null;
    if (heldAt !== null) {
      const t = performance.now();
      const probe = await LoadConnection.open(target.port);
      connectMillisWhileHeld = performance.now() - t;
      probe.close();
    }
    const ledger = new DeliveryLedger(1, messages);
    const consumer = await LoadConnection.open(target.port);
    const t0 = performance.now();
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    await consume(consumer, { destination: '/queue/bench.pfc', ack: 'client-individual', prefetch: 100 }, (body) => {
      ledger.record(body);
      if (ledger.received === messages) done();
    });
    await Promise.race([all, new Promise((r) => setTimeout(r, 600_000))]);
    const seconds = (performance.now() - t0) / 1000;
    await Promise.race([producing, new Promise((r) => setTimeout(r, 5000))]);
    producer.close();
    consumer.close();
    return {
      target: name,
      messages,
      memoryLimit,
      heldAt,
      connectMillisWhileHeld,
      drainRate: ledger.received / seconds,
      producerFinished: finished,
      peakRss,
      verified: ledger.missing === 0 && ledger.duplicates === 0,
    };
  } finally {
    clearInterval(rssTimer);
    await target.stop();
  }
}

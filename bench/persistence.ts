/** Persistence scenarios: receipted persistent sends, draining, recovery after kill -9, and the disk's own fsync rate. */
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { consume, DeliveryLedger, LoadConnection, produce } from './load.js';
import type { BrokerTarget, TargetOptions } from './targets.js';

export interface PersistenceResult {
  scenario: string;
  target: string;
  messages: number;
  seconds: number;
  rate: number;
  verified: boolean;
  detail: string;
}

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

/** The machine's ceiling: a loop of 1 KiB write + fdatasync. */
export function fsyncRate(dir: string, seconds = 3): number {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'fsync-probe');
  const fd = openSync(path, 'w');
  const buf = Buffer.alloc(1024, 1);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    writeSync(fd, buf);
    fdatasyncSync(fd);
    n++;
  }
  closeSync(fd);
  rmSync(path);
  return n / ((performance.now() - t0) / 1000);
}

export async function sendPersistent(target: BrokerTarget, destination: string, producers: number, perProducer: number, receiptEvery: number, size: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: producers }, () => LoadConnection.open(target.port)));
  const t0 = performance.now();
  await Promise.all(conns.map((c, i) => produce(c, { destination, count: perProducer, size, producer: i, persistent: true, receiptEvery })));
  // A final receipt from every producer: all of its sends are stored.
  const seconds = (performance.now() - t0) / 1000;
  for (const c of conns) c.close();
  return seconds;
}

export async function drain(target: BrokerTarget, destination: string, producers: number, perProducer: number): Promise<{ seconds: number; ledger: DeliveryLedger }> {
  const ledger = new DeliveryLedger(producers, perProducer);
  const c = await LoadConnection.open(target.port);
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const t0 = performance.now();
  await consume(c, { destination, ack: 'auto' }, (body) => {
    ledger.record(body);
    if (ledger.received === ledger.expected) finish();
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 300_000))]);
  await new Promise((r) => setTimeout(r, 200));
  const seconds = (performance.now() - t0) / 1000;
  c.close();
  return { seconds, ledger };
}

function result(scenario: string, target: string, messages: number, seconds: number, verified: boolean, detail: string): PersistenceResult {
  return { scenario, target, messages, seconds, rate: messages / seconds, verified, detail };
}

/** Persistent traffic through a fresh broker before measuring it, so a JVM's JIT is warm too. */
async function warmUp(target: BrokerTarget): Promise<void> {
  await sendPersistent(target, '/queue/bench.warmup', 2, 3000, 50, 1024);
  await drain(target, '/queue/bench.warmup', 2, 3000);
}

export async function persistenceScenarios(name: string, start: Start, storeDir: string, scale: number): Promise<PersistenceResult[]> {
  const out: PersistenceResult[] = [];
  const n = (x: number) => Math.max(10, Math.round(x * scale));
  const fresh = async () => {
    const target = await start({ persistent: true, storeDir });
    await warmUp(target);
    return target;
  };
  const size = 1024;

  // 1 producer and 8 producers, a receipt per SEND, nobody consuming; then drain what they stored.
  for (const producers of [1, 8]) {
    const target = await fresh();
    try {
      const per = producers === 1 ? n(5000) : n(2000);
      const dest = `/queue/bench.persist.${producers}`;
      const seconds = await sendPersistent(target, dest, producers, per, 1, size);
      out.push(result(`persistent, receipt per SEND, ${producers} producer${producers > 1 ? 's' : ''}`, name, producers * per, seconds, true, ''));
      if (producers === 8) {
        const d = await drain(target, dest, producers, per);
        out.push(result('drain (consumer, ack auto)', name, d.ledger.received, d.seconds, d.ledger.missing === 0 && d.ledger.duplicates === 0, `missing ${d.ledger.missing}, duplicates ${d.ledger.duplicates}`));
      }
    } finally {
      await target.stop();
    }
  }

  // A receipt every 1,000th SEND.
  {
    const target = await fresh();
    try {
      const per = n(100_000);
      const seconds = await sendPersistent(target, '/queue/bench.persist.window', 1, per, 1000, size);
      out.push(result('persistent, receipt every 1000th SEND', name, per, seconds, true, ''));
    } finally {
      await target.stop();
    }
  }
  return out;
}

export interface RecoveryResult {
  target: string;
  pending: number;
  /** From spawning the restarted broker to its accepting connections. */
  restartSeconds: number;
  /** What the broker says recovery took, when it says. */
  reportedSeconds: number | null;
  receipted: number;
  presentAfterKill: number;
  verified: boolean;
}

/** Fills `pending` 1 KiB messages with windowed receipts, kill -9, restart, count. */
export async function recoveryScenario(name: string, start: Start, storeDir: string, pending: number, reportedRecovery: (t: BrokerTarget) => number | null): Promise<RecoveryResult> {
  const target = await start({ persistent: true, storeDir });
  const per = pending;
  try {
    await sendPersistent(target, '/queue/bench.recovery', 1, per, 1000, 1024);
  } finally {
    await target.kill();
  }
  const t0 = performance.now();
  const restarted = await start({ persistent: true, storeDir, keepStore: true });
  const restartSeconds = (performance.now() - t0) / 1000;
  try {
    const d = await drain(restarted, '/queue/bench.recovery', 1, per);
    return {
      target: name,
      pending,
      restartSeconds,
      reportedSeconds: reportedRecovery(restarted),
      receipted: per,
      presentAfterKill: d.ledger.received,
      verified: d.ledger.missing === 0 && d.ledger.duplicates === 0,
    };
  } finally {
    await restarted.stop();
  }
}

export interface GcResult {
  target: string;
  messages: number;
  seconds: number;
  maxSegments: number;
  segmentsAfter: number;
  verified: boolean;
}

function countSegments(dir: string): number {
  try {
    return readdirSync(dir).filter((f) => /^db-\d+\.log$/.test(f)).length;
  } catch {
    return 0;
  }
}

/** A steady flow of persistent messages through a queue with a consumer: how many journal segments stay on disk. */
export async function gcScenario(name: string, start: Start, storeDir: string, messages: number, settleMs: number): Promise<GcResult> {
  const target = await start({ persistent: true, storeDir });
  try {
    const ledger = new DeliveryLedger(1, messages);
    const c = await LoadConnection.open(target.port);
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    await consume(c, { destination: '/queue/bench.gc', ack: 'auto' }, (body) => {
      ledger.record(body);
      if (ledger.received === messages) finish();
    });
    let maxSegments = 0;
    const sampler = setInterval(() => (maxSegments = Math.max(maxSegments, countSegments(storeDir))), 500);
    const t0 = performance.now();
    await sendPersistent(target, '/queue/bench.gc', 1, messages, 1000, 1024);
    await done;
    const seconds = (performance.now() - t0) / 1000;
    // Give the periodic cleanup (cleanupInterval, 30 s by default in both brokers) time to run.
    const deadline = Date.now() + settleMs;
    while (Date.now() < deadline && countSegments(storeDir) > 3) await new Promise((r) => setTimeout(r, 1000));
    clearInterval(sampler);
    c.close();
    return { target: name, messages, seconds, maxSegments, segmentsAfter: countSegments(storeDir), verified: ledger.missing === 0 && ledger.duplicates === 0 };
  } finally {
    await target.stop();
  }
}

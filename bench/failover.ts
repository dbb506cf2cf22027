/** Master/slave failover after kill -9: when the slave takes the lock, recovers, and first answers CONNECT. */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { LoadConnection, produce } from './load.js';
import type { BrokerTarget, TargetOptions } from './targets.js';

export interface FailoverTrial {
  target: string;
  lockPoll: number;
  /** kill -9 → the slave holds the lock (amq-sim's log). */
  detectionSeconds: number | null;
  /** Journal recovery, as the slave reports it. */
  recoverySeconds: number | null;
  /** kill -9 → first CONNECTED from the slave. */
  connectedSeconds: number;
}

type Start = (o: TargetOptions) => Promise<BrokerTarget>;

/** Answers true once a STOMP CONNECT gets CONNECTED. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('CONNECT\naccept-version:1.2\nhost:x\n\n\0'));
    s.on('data', (d) => done(d.toString('latin1').startsWith('CONNECTED')));
  });
}

function logTime(output: string, pattern: RegExp): number | null {
  for (const line of output.split('\n')) {
    if (!pattern.test(line)) continue;
    try {
      return (JSON.parse(line) as { time: number }).time;
    } catch {
      return null;
    }
  }
  return null;
}

export async function failoverTrial(name: string, start: Start, storeDir: string, lockPoll: number, ports: [number, number]): Promise<FailoverTrial> {
  rmSync(storeDir, { recursive: true, force: true });
  const a = await start({ persistent: true, storeDir, keepStore: true, lockPoll, port: ports[0], instance: 'a' });
  const b = await start({ persistent: true, storeDir, keepStore: true, lockPoll, port: ports[1], instance: 'b', noWait: true });
  try {
    const c = await LoadConnection.open(a.port);
    await produce(c, { destination: '/queue/bench.failover', count: 100, size: 1024, producer: 0, persistent: true, receiptEvery: 1 });
    c.close();
    // Let the slave settle into its polling, then kill at a random point of its cycle.
    await new Promise((r) => setTimeout(r, 1500 + Math.random() * lockPoll));
    const killedAt = Date.now();
    await a.kill();
    while (!(await connects(b.port))) await new Promise((r) => setTimeout(r, 20));
    const connectedSeconds = (Date.now() - killedAt) / 1000;
    const out = b.output();
    const locked = logTime(out, /Lock acquired on/);
    const recovery = /Recovery replayed \d+ operations from the journal in ([\d.]+) seconds/.exec(out);
    return {
      target: name,
      lockPoll,
      detectionSeconds: locked === null ? null : (locked - killedAt) / 1000,
      recoverySeconds: recovery ? Number(recovery[1]) : null,
      connectedSeconds,
    };
  } finally {
    await a.kill();
    await b.kill();
  }
}

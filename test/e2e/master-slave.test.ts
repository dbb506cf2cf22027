import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/index.js';
import { drainAll, eventually, sleep } from '../helpers/broker.js';
import { accepting, type CliProcess, freePort, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Fast lock timings for tests: slaves poll every 500 ms, a lock is stale after 2 s. */
function lockConfig(dir: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, 'locker.json');
  writeFileSync(file, JSON.stringify({ locker: { lockAcquireSleepInterval: 500, lockKeepAlivePeriod: 500, lockStaleTimeout: 2000, ...extra } }));
  return file;
}

interface Node {
  p: CliProcess;
  port: number;
  name: string;
}

async function node(name: string, store: string, config: string, args: string[] = []): Promise<Node> {
  const port = await freePort();
  const p = runCli(['broker', '--name', name, '--stomp', `stomp://127.0.0.1:${port}`, '--store', store, '--config', config, '--log-format', 'json', ...args]);
  return { p, port, name };
}

async function sendNumbered(url: string, from: number, count: number): Promise<void> {
  const c = await StompClient.connect(url);
  for (let i = from; i < from + count; i++) await c.sendWithReceipt('/queue/ms', String(i), { persistent: 'true' });
  c.destroy();
}

async function receiveAll(url: string, quietMs = 400): Promise<number[]> {
  return (await drainAll(url, '/queue/ms', quietMs)).map((m) => Number(m.text));
}

function setup() {
  const dir = tempDir('ms');
  const store = join(dir, 'kahadb');
  return { dir, store, config: lockConfig(dir) };
}

describe('master/slave on a shared store', () => {
  it('makes the second broker a slave that serves nothing and logs ActiveMQ\'s lines at each poll', async () => {
    const { store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/^amq-sim .* \(A, .*\) started$/);
    const b = await node('B', store, config);
    const lockPath = join(store, 'lock');
    await b.p.waitForLog(new RegExp(`^Database ${lockPath} is locked by another server\\. This broker is now in slave mode waiting a lock to be acquired$`));
    const first = await b.p.waitForLog(/is locked\.\.\. waiting 0\.5 seconds for the database to be unlocked\. Reason: /);
    const fromLine = b.p.logs.indexOf(first) + 1;
    await b.p.waitForLog(/is locked\.\.\. waiting 0\.5 seconds/, 5000, fromLine);
    expect(first.msg).toContain(`Database ${lockPath} is locked... waiting 0.5 seconds for the database to be unlocked.`);
    expect(b.p.logs.filter((l) => /slave mode/.test(l.msg))).toHaveLength(1);
    // A slave opens no transport and reads nothing of the journal.
    expect(await accepting(b.port)).toBe(false);
    expect(b.p.logs.some((l) => /Recover/.test(l.msg))).toBe(false);
    expect(await accepting(a.port)).toBe(true);
  });

  it('after kill -9 of the master, the slave serves within the poll interval plus recovery, with every receipted message exactly once', async () => {
    const { store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    const b = await node('B', store, config);
    await b.p.waitForLog(/slave mode/);
    await sendNumbered(`stomp://127.0.0.1:${a.port}`, 0, 200);
    const killedAt = Date.now();
    await a.p.kill();
    await b.p.waitForLog(/\(B, .*\) started$/, 10_000);
    const tookOver = Date.now() - killedAt;
    // Same host: the dead holder's pid is noticed, so no wait for the lock to go stale.
    expect(tookOver).toBeLessThan(500 + 3000);
    expect(b.p.logs.some((l) => /is gone; taking over its lock/.test(l.msg))).toBe(true);
    const got = await receiveAll(`stomp://127.0.0.1:${b.port}`);
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('releases the lock at once on SIGTERM, and the slave takes over at its next poll', async () => {
    const { store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    const b = await node('B', store, config);
    await b.p.waitForLog(/slave mode/);
    await sendNumbered(`stomp://127.0.0.1:${a.port}`, 0, 20);
    a.p.signal('SIGTERM');
    expect(await a.p.waitExit()).toBe(0);
    expect(existsSync(join(store, 'lock'))).toBe(false);
    await b.p.waitForLog(/\(B, .*\) started$/, 3000);
    expect(b.p.logs.some((l) => /is gone/.test(l.msg))).toBe(false);
    expect((await receiveAll(`stomp://127.0.0.1:${b.port}`)).length).toBe(20);
  });

  it('fences a master frozen past the stale time: it stops serving within a second of waking, loses nothing, and the journal stays sound', async () => {
    const { dir, store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    const b = await node('B', store, config);
    await b.p.waitForLog(/slave mode/);
    await sendNumbered(`stomp://127.0.0.1:${a.port}`, 0, 50);
    a.p.signal('SIGSTOP');
    await b.p.waitForLog(/\(B, .*\) started$/, 10_000);
    await sendNumbered(`stomp://127.0.0.1:${b.port}`, 50, 50);
    const resumedAt = Date.now();
    a.p.signal('SIGCONT');
    const fenced = await a.p.waitForLog(/^A, no longer able to keep the exclusive lock so giving up being a master/, 5000);
    expect(fenced.time - resumedAt).toBeLessThan(1000);
    await eventually(async () => !(await accepting(a.port)), 2000, 'A to close its listener');
    // A went back to waiting as a slave (restartAllowed).
    await a.p.waitForLog(/slave mode/, 5000);
    const got = await receiveAll(`stomp://127.0.0.1:${b.port}`);
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // A third broker can open the journal afterwards.
    b.p.signal('SIGTERM');
    await b.p.waitExit();
    await a.p.kill();
    const c = await node('C', store, lockConfig(dir));
    await c.p.waitForLog(/\(C, .*\) started$/, 10_000);
    expect(c.p.logs.some((l) => l.level >= 50)).toBe(false);
  });

  it('fences a master whose lock was removed from under it', async () => {
    const { store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    rmSync(join(store, 'lock'), { recursive: true });
    await a.p.waitForLog(/no longer able to keep the exclusive lock so giving up being a master: the lock was removed/, 5000);
  });

  it('exits at once with failIfLocked', async () => {
    const { store, config } = setup();
    const a = await node('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    const b = await node('B', store, config, ['--fail-if-locked']);
    expect(await b.p.waitExit()).toBe(1);
    expect(b.p.stderr).toContain('failIfLocked');
  });

  it('has exactly one broker accepting connections through 5 rounds of kills (1 master, 2 slaves)', async () => {
    const { store, config } = setup();
    const nodes = [await node('A', store, config), await node('B', store, config), await node('C', store, config)];
    const upCount = async () => (await Promise.all(nodes.map((n) => accepting(n.port)))).filter(Boolean).length;
    await eventually(async () => (await upCount()) === 1, 10_000, 'a master');
    // Never two at once, sampled all along (during a failover there may be none).
    let splitBrain = 0;
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        if ((await upCount()) > 1) splitBrain++;
        await sleep(25);
      }
    })();
    const steady: number[] = [];
    for (let round = 0; round < 5; round++) {
      // 20 samples of the settled cluster per round: 100 in all, each must find exactly one.
      for (let i = 0; i < 20; i++) {
        steady.push(await upCount());
        await sleep(20);
      }
      const up = await Promise.all(nodes.map((n) => accepting(n.port)));
      const master = nodes[up.indexOf(true)];
      await master.p.kill();
      nodes[nodes.indexOf(master)] = await node(master.name, store, config);
      await eventually(async () => (await upCount()) === 1, 10_000, `a new master in round ${round + 1}`);
    }
    stop = true;
    await watcher;
    expect(steady).toHaveLength(100);
    expect(steady.every((n) => n === 1)).toBe(true);
    expect(splitBrain).toBe(0);
    expect(nodes.every((n) => n.p.running)).toBe(true);
  });
});

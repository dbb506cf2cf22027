import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockError } from '../../src/errors.js';
import { StoreLock, type StoreLockOptions } from '../../src/lock/store-lock.js';
import { eventually, sleep } from '../helpers/broker.js';
import { captureLogger } from '../helpers/log-capture.js';
import { tempDir } from '../helpers/temp-dir.js';

const locks: StoreLock[] = [];
afterEach(async () => {
  await Promise.all(locks.splice(0).map((l) => l.close()));
});

function lock(directory: string, o: Partial<StoreLockOptions> = {}) {
  const captured = captureLogger();
  const logs = { logger: captured.logger, messages: () => captured.lines.map((l) => l.msg) };
  const l = new StoreLock({
    directory,
    lockAcquireSleepInterval: 100,
    lockKeepAlivePeriod: 200,
    lockStaleTimeout: 2000,
    failIfLocked: false,
    brokerName: o.brokerName ?? 'A',
    brokerId: `ID:${o.brokerName ?? 'A'}`,
    logger: logs.logger,
    ...o,
  });
  locks.push(l);
  return { lock: l, logs };
}

describe('StoreLock', () => {
  it('takes a free lock and says who holds it', async () => {
    const dir = tempDir('lock');
    const { lock: a } = lock(dir);
    expect(await a.acquire()).toBeLessThan(1);
    expect(a.held).toBe(true);
    expect(a.guard()).toBeNull();
    expect(a.holder()).toMatchObject({ brokerName: 'A', pid: process.pid, host: hostname() });
  });

  it('makes a second broker wait as a slave, logging ActiveMQ\'s line once, until the holder lets go', async () => {
    const dir = tempDir('lock');
    const { lock: a } = lock(dir);
    await a.acquire();
    const { lock: b, logs } = lock(dir, { brokerName: 'B' });
    let acquired = false;
    const waiting = b.acquire().then(() => (acquired = true));
    await sleep(350);
    expect(acquired).toBe(false);
    expect(logs.messages().filter((m) => /is locked by another server\. This broker is now in slave mode waiting a lock to be acquired$/.test(m))).toHaveLength(1);
    expect(logs.messages().filter((m) => /is locked\.\.\. waiting 0\.1 seconds for the database to be unlocked/.test(m)).length).toBeGreaterThanOrEqual(2);
    await a.close();
    await waiting;
    expect(b.holder()?.brokerName).toBe('B');
  });

  it('fails at once with failIfLocked', async () => {
    const dir = tempDir('lock');
    await lock(dir).lock.acquire();
    const { lock: b } = lock(dir, { brokerName: 'B', failIfLocked: true });
    const err = await b.acquire().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).code).toBe('LOCK_LOCKED');
  });

  it('stops waiting when closed (shutdown of a slave)', async () => {
    const dir = tempDir('lock');
    await lock(dir).lock.acquire();
    const { lock: b } = lock(dir, { brokerName: 'B' });
    const waiting = b.acquire().catch((e: LockError) => e.code);
    await sleep(150);
    await b.close();
    expect(await waiting).toBe('LOCK_WAIT_ABORTED');
  });

  it('notices the lock removed from under it and fences: guard() gives the reason', async () => {
    const dir = tempDir('lock');
    const { lock: a } = lock(dir);
    await a.acquire();
    const lost: string[] = [];
    a.onLost((r) => lost.push(r));
    rmSync(join(dir, 'lock'), { recursive: true });
    await eventually(() => lost.length === 1, 3000, 'the loss');
    expect(lost[0]).toBe('the lock was removed');
    expect(a.guard()).toBe('the lock was removed');
    expect(a.held).toBe(false);
  });

  it('takes over at once from a holder on this host whose process is gone, without waiting for the lock to go stale', async () => {
    const dir = tempDir('lock');
    mkdirSync(join(dir, 'lock'));
    const { statSync } = await import('node:fs');
    const st = statSync(join(dir, 'lock'));
    // A pid that is not running (pid_max is below 2^22 on Linux).
    writeFileSync(join(dir, 'lock.info'), JSON.stringify({ brokerName: 'dead', brokerId: 'x', host: hostname(), pid: 4_194_304 + 7, acquiredAt: '', identity: { ino: st.ino, birthtimeMs: st.birthtimeMs } }));
    const { lock: b, logs } = lock(dir, { brokerName: 'B' });
    expect(await b.acquire()).toBeLessThan(0.5);
    expect(logs.messages().some((m) => /The lock holder dead \(pid \d+ on .*\) is gone; taking over its lock/.test(m))).toBe(true);
  });

  it('takes over a lock nobody refreshed for lockStaleTimeout', async () => {
    const dir = tempDir('lock');
    mkdirSync(join(dir, 'lock'));
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(dir, 'lock'), old, old);
    const { lock: b } = lock(dir, { brokerName: 'B' });
    expect(await b.acquire()).toBeLessThan(0.5);
    expect(b.held).toBe(true);
  });

  it('refuses a lock path that is not an amq-sim lock', async () => {
    const dir = tempDir('lock');
    writeFileSync(join(dir, 'lock'), 'not a directory');
    const err = await lock(dir).lock.acquire().catch((e: LockError) => e);
    expect(err).toMatchObject({ code: 'LOCK_FOREIGN' });
  });
});

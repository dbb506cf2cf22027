/**
 * The exclusive lock on a store directory, at `<store>/lock` (proper-lockfile:
 * an atomic mkdir whose mtime the holder refreshes; a lock not refreshed for
 * `staleTimeout` is abandoned). Whoever holds it is master; the others poll,
 * as ActiveMQ's shared-file locker does, and serve nothing meanwhile.
 *
 * Fencing: the holder re-checks, before every journal write and on a short
 * ticker, that the lock directory is still the one it created and still
 * fresh. A master that was frozen past the stale time (so a slave may have
 * taken over) finds out on its first step after waking, before it writes.
 */
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from '../config/logger.js';
import { lockError } from '../errors.js';
import { ensureWritableDirectory } from '../util/directory.js';

export interface StoreLockOptions {
  directory: string;
  /** ActiveMQ `lockAcquireSleepInterval`: a slave tries the lock this often (ms). */
  lockAcquireSleepInterval: number;
  /** ActiveMQ `lockKeepAlivePeriod`: the master refreshes and re-checks the lock this often (ms). */
  lockKeepAlivePeriod: number;
  /** A lock not refreshed for this long is taken over (ms, at least 2000). */
  lockStaleTimeout: number;
  /** ActiveMQ `failIfLocked`: fail at once instead of waiting as a slave. */
  failIfLocked: boolean;
  brokerName: string;
  brokerId: string;
  logger: Logger;
}


interface Identity {
  ino: number;
  birthtimeMs: number;
}

interface LockInfo {
  brokerName: string;
  brokerId: string;
  host: string;
  pid: number;
  acquiredAt: string;
  identity: Identity;
}

export class StoreLock {
  readonly lockPath: string;
  private readonly infoPath: string;
  private release: (() => Promise<void>) | null = null;
  private identity: Identity | null = null;
  private confirmedAt = 0;
  private lostReason: string | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private lostListener: ((reason: string) => void) | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private wakeWait: (() => void) | null = null;
  private aborted = false;

  constructor(private readonly o: StoreLockOptions) {
    this.lockPath = join(o.directory, 'lock');
    this.infoPath = join(o.directory, 'lock.info');
  }

  get held(): boolean {
    return this.release !== null && this.lostReason === null;
  }

  /** Who holds the lock, as its holder wrote it (for status and logs). */
  holder(): LockInfo | null {
    try {
      return JSON.parse(readFileSync(this.infoPath, 'utf8')) as LockInfo;
    } catch {
      return null;
    }
  }

  /**
   * Takes the lock, waiting as a slave for as long as it takes (or failing at
   * once with `failIfLocked`). Resolves with the seconds spent waiting.
   */
  async acquire(): Promise<number> {
    ensureWritableDirectory(this.o.directory);
    const t0 = Date.now();
    let announced = false;
    for (;;) {
      if (this.aborted) throw lockError('LOCK_WAIT_ABORTED');
      const reason = await this.tryLock();
      if (reason === null) break;
      if (this.o.failIfLocked) throw lockError('LOCK_LOCKED', this.lockPath, reason);
      if (!announced) {
        announced = true;
        this.o.logger.info({ lock: this.lockPath, holder: this.holder() }, `Database ${this.lockPath} is locked by another server. This broker is now in slave mode waiting a lock to be acquired`);
      }
      const seconds = this.o.lockAcquireSleepInterval / 1000;
      this.o.logger.info(
        { lock: this.lockPath },
        `Database ${this.lockPath} is locked... waiting ${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} seconds for the database to be unlocked. Reason: ${reason}`,
      );
      await this.sleep(this.o.lockAcquireSleepInterval);
    }
    this.confirmedAt = Date.now();
    this.ticker = setInterval(() => this.check(), Math.min(1000, this.o.lockKeepAlivePeriod));
    return (Date.now() - t0) / 1000;
  }

  /** One attempt; null when the lock is ours, else why not. */
  private async tryLock(): Promise<string | null> {
    this.takeOverFromDeadHolder();
    try {
      this.release = await lockfile.lock(this.o.directory, {
        lockfilePath: this.lockPath,
        realpath: false,
        stale: this.o.lockStaleTimeout,
        update: this.o.lockKeepAlivePeriod,
        retries: 0,
        onCompromised: (err) => this.lose(`the lock was compromised: ${err.message}`),
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ELOCKED') {
        const h = this.holder();
        return `File '${this.lockPath}' could not be locked${h ? ` (held by ${h.brokerName} ${h.brokerId}, pid ${h.pid} on ${h.host})` : ''}.`;
      }
      if (e.code === 'ENOTDIR' || e.code === 'ENOTEMPTY') throw lockError('LOCK_FOREIGN', this.lockPath, e.code);
      throw err;
    }
    const st = statSync(this.lockPath);
    this.identity = { ino: st.ino, birthtimeMs: st.birthtimeMs };
    const info: LockInfo = {
      brokerName: this.o.brokerName,
      brokerId: this.o.brokerId,
      host: hostname(),
      pid: process.pid,
      acquiredAt: new Date().toISOString(),
      identity: this.identity,
    };
    writeFileSync(this.infoPath, JSON.stringify(info, null, 2));
    return null;
  }

  /**
   * On the same host, a holder whose process is gone (kill -9) need not be
   * waited out for the stale time. A second lock (`lock.takeover`) keeps two
   * slaves from doing this at once.
   */
  private takeOverFromDeadHolder(): void {
    const h = this.holder();
    if (!h || h.host !== hostname() || h.pid === process.pid || processAlive(h.pid)) return;
    const takeover = join(this.o.directory, 'lock.takeover');
    try {
      const current = statSync(this.lockPath);
      if (current.ino !== h.identity.ino || current.birthtimeMs !== h.identity.birthtimeMs) return;
      if (Date.now() - current.mtimeMs > this.o.lockStaleTimeout) return;
      mkdirSync(takeover);
    } catch {
      clearStale(takeover, this.o.lockStaleTimeout);
      return;
    }
    try {
      const again = statSync(this.lockPath);
      if (again.ino === h.identity.ino && again.birthtimeMs === h.identity.birthtimeMs) {
        rmdirSync(this.lockPath);
        this.o.logger.info({ holder: h }, `The lock holder ${h.brokerName} (pid ${h.pid} on ${h.host}) is gone; taking over its lock without waiting for it to go stale`);
      }
    } catch {
      /* it changed under us: the normal attempt decides */
    } finally {
      rmdirSync(takeover);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeWait = resolve;
      this.waitTimer = setTimeout(resolve, ms);
    });
  }

  /** Still ours? Checked by the ticker and, when the ticker has not confirmed lately, before a journal write. */
  private check(): boolean {
    if (this.lostReason || !this.identity) return false;
    try {
      const st = statSync(this.lockPath);
      if (st.ino !== this.identity.ino || st.birthtimeMs !== this.identity.birthtimeMs) return this.lose('another broker replaced the lock');
      const age = Date.now() - st.mtimeMs;
      if (age > this.o.lockStaleTimeout) return this.lose(`the lock was not refreshed for ${Math.round(age)} ms (longer than ${this.o.lockStaleTimeout} ms: this process was stopped or frozen), so another broker may have taken it`);
    } catch (err) {
      return this.lose((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the lock was removed' : `the lock cannot be checked: ${(err as Error).message}`);
    }
    this.confirmedAt = Date.now();
    return true;
  }

  private lose(reason: string): false {
    if (this.lostReason) return false;
    this.lostReason = reason;
    if (this.ticker) clearInterval(this.ticker);
    this.lostListener?.(reason);
    return false;
  }

  /**
   * Asked before every journal write and file deletion: null while the lock is
   * surely ours, else why not. Cheap: the file system is only asked when the
   * ticker has not confirmed the lock within the last second (a frozen
   * process, or a blocked event loop).
   */
  guard(): string | null {
    if (this.lostReason) return this.lostReason;
    if (Date.now() - this.confirmedAt < 1000) return null;
    return this.check() ? null : this.lostReason;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListener = listener;
    if (this.lostReason) listener(this.lostReason);
  }

  /** Stops waiting (shutdown while slave) or releases the lock. */
  async close(): Promise<void> {
    this.aborted = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.wakeWait?.();
    if (this.ticker) clearInterval(this.ticker);
    const release = this.release;
    this.release = null;
    if (release && !this.lostReason) await release().catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function clearStale(dir: string, staleMs: number): void {
  try {
    if (Date.now() - statSync(dir).mtimeMs > staleMs) rmdirSync(dir);
  } catch {
    /* gone already */
  }
}

/**
 * ActiveMQ's SystemUsage: the broker's three limits (memory, store, temp)
 * and who waits for room in each. Memory is counted here (messages held in
 * memory: pending, in flight, in open transactions); store and temp are
 * measured from their stores, which know their files and their disk.
 */
import type { MessageStore, StoreSpace } from '../../store/types.js';

/** The room of a store that does not exist (no temp store configured). */
const NO_STORE: StoreSpace = { used: 0, available: Infinity, diskFull: false };

/** How often a usage measured from a store is looked at again while producers wait for it. */
const POLL_INTERVAL = 200;
/** How often, while producers wait for a store, it is asked to free what it can (GC). */
const RECLAIM_INTERVAL = 1000;

export class Usage {
  private readonly waiters = new Set<() => void>();
  private poll: NodeJS.Timeout | null = null;

  constructor(
    /** ActiveMQ's name: `default:memory`, `default:store`, `default:temp`. */
    readonly name: string,
    /** The configured limit, bytes. */
    readonly limit: number,
    private readonly measure: () => StoreSpace,
    /** Asks the store to free what it can (GC), while someone waits. */
    private readonly reclaim: () => Promise<void> = async () => {},
  ) {}

  get used(): number {
    return this.measure().used;
  }

  /** The limit in force: the configured one, or less when the disk has less room. */
  get effectiveLimit(): number {
    const s = this.measure();
    return Math.min(this.limit, s.used + s.available);
  }

  get percent(): number {
    const limit = this.effectiveLimit;
    return limit > 0 ? Math.min(100, Math.floor((this.used * 100) / limit)) : 100;
  }

  /** At or past `percent` of the limit (ActiveMQ's isFull), or out of disk. */
  isFull(percent = 100): boolean {
    const s = this.measure();
    return s.diskFull || s.used >= (Math.min(this.limit, s.used + s.available) * percent) / 100;
  }

  /** Runs `resume` once the usage is under its limit again; returns a cancel. */
  whenRoom(resume: () => void): () => void {
    this.waiters.add(resume);
    this.startPolling();
    return () => this.waiters.delete(resume);
  }

  /** Usage went down: waiters go on if there is room now. */
  changed(): void {
    if (this.waiters.size === 0 || this.isFull()) return;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const resume of waiting) resume();
  }

  /** A store's room changes without telling: it is looked at while someone waits. */
  protected startPolling(): void {
    if (this.poll) return;
    let reclaimedAt = 0;
    this.poll = setInterval(() => {
      this.changed();
      if (this.waiters.size > 0 && Date.now() - reclaimedAt >= RECLAIM_INTERVAL) {
        reclaimedAt = Date.now();
        void this.reclaim().then(() => this.changed());
      }
      if (this.waiters.size === 0 && this.poll) {
        clearInterval(this.poll);
        this.poll = null;
      }
    }, POLL_INTERVAL);
    this.poll.unref();
  }

  stop(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.waiters.clear();
  }

  describe(): { used: number; limit: number; percent: number } {
    return { used: this.used, limit: this.effectiveLimit, percent: this.percent };
  }
}

/** Memory: counted by the broker as messages are held and let go. */
export class MemoryUsage extends Usage {
  private bytes = 0;

  constructor(name: string, limit: number) {
    super(name, limit, () => ({ used: this.bytes, available: Infinity, diskFull: false }));
  }

  add(delta: number): void {
    this.bytes += delta;
    if (delta < 0) this.changed();
  }

  protected override startPolling(): void {
    // Memory use is counted: `add` tells the waiters.
  }
}

export interface SystemUsageOptions {
  memoryLimit: number;
  storeLimit: number;
  tempLimit: number;
  store: MessageStore;
  temp: MessageStore | null;
}

export class SystemUsage {
  readonly memory: MemoryUsage;
  readonly store: Usage;
  readonly temp: Usage;

  constructor(o: SystemUsageOptions) {
    this.memory = new MemoryUsage('default:memory', o.memoryLimit);
    this.store = new Usage('default:store', o.storeLimit, () => o.store.space(), () => o.store.reclaim());
    const temp = o.temp;
    this.temp = temp ? new Usage('default:temp', o.tempLimit, () => temp.space(), () => temp.reclaim()) : new Usage('default:temp', o.tempLimit, () => NO_STORE);
  }

  stop(): void {
    for (const u of [this.memory, this.store, this.temp]) u.stop();
  }

  describe(): Record<'memory' | 'store' | 'temp', { used: number; limit: number; percent: number }> {
    return { memory: this.memory.describe(), store: this.store.describe(), temp: this.temp.describe() };
  }
}

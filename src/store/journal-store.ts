/**
 * A KahaDB-like store: an append-only, segmented journal (`db-N.log`), an
 * in-memory index of what is live in it, a periodic checkpoint of that index
 * (`db.data`), and GC of segments nothing needs any more.
 */
import { promises as fs, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../config/logger.js';
import { StoreError, storeError } from '../errors.js';
import { encodeCheckpoint, writeCheckpoint } from './checkpoint.js';
import { DEFAULT_BROKER_CONFIG } from '../config/broker-config.js';
import { ensureWritableDirectory } from '../util/directory.js';
import { Journal } from './journal.js';
import { type SyncStrategy, syncPolicy } from './sync-policy.js';
import { subscriptionOf } from './holders.js';
import { type LiveIndex, type Location, positionOf } from './live-index.js';
import { JournalReader } from './journal-reader.js';
import { decodeRecord, encodeEpoch, encodeOp, encodeTransaction } from './records.js';
import { recoverJournal } from './recovery.js';
import { listSegments, segmentName } from './segment.js';
import type { CommitCallback, MessageStore, PagedMessage, RecoveredState, StoredBacklog, StoredMessage, StoreOp, StoreSpace, WriteCallback } from './types.js';

/** Records that free room rather than take it: kept for later when the disk is full. */
const FREES_ROOM = new Set<StoreOp['op']>(['remove', 'purge', 'remove-subscription', 'remove-destination']);

/** While the disk is full: how often its free space is measured and GC runs. */
const FULL_DISK_CHECK_INTERVAL = 1000;
/** Room kept on the disk for acknowledgements, dispatch marks and checkpoints: a tenth of the disk, at most 64 MiB. */
function diskReserve(total: number): number {
  return Math.min(total / 10, 64 * 1024 * 1024);
}

export interface JournalStoreOptions {
  directory: string;
  /** KahaDB `journalMaxFileLength` (default 32 MiB). */
  journalMaxFileLength?: number;
  /** KahaDB `journalDiskSyncStrategy` (default always). */
  journalDiskSyncStrategy?: SyncStrategy;
  /** KahaDB `journalDiskSyncInterval`, ms (default 1000). */
  journalDiskSyncInterval?: number;
  /** KahaDB `checkpointInterval`, ms (default 5000; 0 = only at close). */
  checkpointInterval?: number;
  /** KahaDB `cleanupInterval`, ms (default 30000; 0 = never). */
  cleanupInterval?: number;
  /** KahaDB `checkForCorruptJournalFiles`: at start, checksum even the records the checkpoint points to (default false). */
  checkForCorruptJournalFiles?: boolean;
  logger: Logger;
  /** How often the disk's free space is measured, ms (default 1000); between measures what the store writes is counted. */
  spaceCheckInterval?: number;
  /**
   * A checkpoint is also written once this many journal bytes came after the
   * last one (default 64 MiB), whatever checkpointInterval says: it bounds
   * what recovery after a crash replays, so restart time stays short under a
   * heavy write load.
   */
  checkpointAfterBytes?: number;
  /** Asked before every write and file deletion: why this process may no longer write, or null. */
  guard?: () => string | null;
  /** The store stopped accepting writes (fenced, or an I/O error). */
  onFailure?: (err: Error) => void;
}

/** The message and destination of an Add record (or of the Add at `op` in a transaction record). */
function messageAt(record: { type: number; payload: Buffer } | null, op: number): { destination: string; message: StoredMessage } | null {
  if (!record) return null;
  try {
    const d = decodeRecord(record.type, record.payload);
    const add = d.type === 'transaction' ? d.ops[op] : d.type === 'op' && op < 0 ? d.op : undefined;
    return add?.op === 'add' ? { destination: add.destination, message: add.message } : null;
  } catch {
    return null;
  }
}

export class JournalStore implements MessageStore {
  readonly pagesOut = true;
  private reader: JournalReader | null = null;
  private readonly o: Required<Omit<JournalStoreOptions, 'guard' | 'onFailure' | 'spaceCheckInterval' | 'checkpointAfterBytes'>> & Pick<JournalStoreOptions, 'guard' | 'onFailure' | 'spaceCheckInterval'>;
  private readonly checkpointAfterBytes: number;
  private index: LiveIndex | null = null;
  private journal: Journal | null = null;
  private epoch = 0;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private cleanupTimer: NodeJS.Timeout | null = null;
  private checkpointDue = false;
  private checkpointing: Promise<void> | null = null;
  private bytesAtCheckpoint = 0;
  private lastCheckpointBytes = 0;
  private closed = false;
  // Space: the bytes of segments there were at start and those GC deleted since, and the disk as last measured.
  private bytesAtStart = 0;
  private bytesDeleted = 0;
  private usedAtMeasure = 0;
  private roomAtMeasure = Infinity;
  private diskFull = false;
  private spaceTimer: NodeJS.Timeout | null = null;
  private cleaning: Promise<number[]> | null = null;
  /** Acknowledgements and removals a full disk refused, written again once it has room. */
  private afterRoom: StoreOp[] = [];

  constructor(options: JournalStoreOptions) {
    this.o = { ...DEFAULT_BROKER_CONFIG.store, ...options };
    this.checkpointAfterBytes = options.checkpointAfterBytes ?? 64 * 1024 * 1024;
  }

  get directory(): string {
    return this.o.directory;
  }

  async recover(): Promise<RecoveredState> {
    ensureWritableDirectory(this.o.directory);
    const r = await recoverJournal(this.o.directory, this.o.logger, { checkForCorruptJournalFiles: this.o.checkForCorruptJournalFiles });
    this.index = r.index;
    this.reader = new JournalReader(this.o.directory);
    this.epoch = r.epoch + 1;
    this.journal = new Journal({
      directory: this.o.directory,
      maxFileLength: this.o.journalMaxFileLength,
      sync: syncPolicy(this.o.journalDiskSyncStrategy, this.o.journalDiskSyncInterval),
      epoch: this.epoch,
      firstSegment: r.lastSegment + 1,
      guard: () => this.o.guard?.() ?? null,
      onFailure: (err) => this.failed(err),
      onDiskFull: (err) => this.outOfSpace(err),
      onFlushed: (position) => this.flushed(position),
    });
    this.bytesAtStart = listSegments(this.o.directory).reduce((sum, s) => sum + statSync(join(this.o.directory, segmentName(s))).size, 0);
    await this.measureSpace();
    this.spaceTimer = setInterval(() => void this.measureSpace(), this.o.spaceCheckInterval ?? 1000);
    this.spaceTimer.unref();
    // The first record of this master's first segment fences what the previous one wrote after this point.
    const mark = { epoch: this.epoch, fencedSegment: r.lastSegment, fencedEnd: r.lastEnd };
    await new Promise<void>((resolve, reject) =>
      this.journal!.append((w) => encodeEpoch(w, mark), (loc) => this.index!.applyEpoch(mark, loc), (err) => (err ? reject(err) : resolve())),
    );
    if (this.o.checkpointInterval > 0) {
      this.checkpointTimer = setInterval(() => this.considerCheckpoint(), this.o.checkpointInterval);
      this.checkpointTimer.unref();
    }
    if (this.o.cleanupInterval > 0) {
      this.cleanupTimer = setInterval(() => void this.cleanup(), this.o.cleanupInterval);
      this.cleanupTimer.unref();
    }
    return r.state;
  }

  write(op: StoreOp, done?: WriteCallback): void {
    const journal = this.journal;
    if (!journal) throw storeError('STORE_CLOSED');
    let position: number | undefined;
    journal.append(
      (w) => encodeOp(w, op),
      (loc) => {
        if (op.op === 'add') position = positionOf(loc);
        this.index!.apply(op, loc);
      },
      (err) => {
        // What frees room (acknowledgements, purges) is not given up to a full disk: it is written once there is room.
        if (err instanceof StoreError && err.code === 'STORE_DISK_FULL' && FREES_ROOM.has(op.op)) this.afterRoom.push(op);
        done?.(err, position);
      },
    );
  }

  commit(transactionId: string, ops: readonly StoreOp[], done?: CommitCallback): void {
    const journal = this.journal;
    if (!journal) throw storeError('STORE_CLOSED');
    const positions: Array<number | undefined> = [];
    journal.append(
      (w) => encodeTransaction(w, transactionId, ops),
      (loc) =>
        ops.forEach((op, i) => {
          const at = { ...loc, op: i };
          positions[i] = op.op === 'add' ? positionOf(at) : undefined;
          this.index!.apply(op, at);
        }),
      done && ((err) => done(err, positions)),
    );
  }

  backlog(holder: string): StoredBacklog {
    const index = () => this.index!;
    return {
      get size() {
        return index().holders.get(holder)?.size ?? 0;
      },
      get last() {
        return index().holders.get(holder)?.last ?? 0;
      },
      countAfter: (position) => index().holders.get(holder)?.countAfter(position) ?? 0,
      read: (after, upTo, max) => this.readBacklog(holder, after, upTo, max),
    };
  }

  /**
   * Pages in a holder's next messages: their records are read (a segment's
   * at a time), decoded, marked as dispatched ones were. Damaged ones are
   * dropped and more are read in their place.
   */
  private async readBacklog(holder: string, after: number, upTo: number, max: number): Promise<PagedMessage[]> {
    const index = this.index!;
    const out: PagedMessage[] = [];
    let cursor = after;
    while (out.length < max) {
      const positions = (index.holders.get(holder)?.after(cursor, max - out.length) ?? []).filter((p) => p <= upTo);
      if (positions.length === 0) break;
      cursor = positions[positions.length - 1];
      const segment = index.recordOf(positions[0]).segment;
      const group = positions.filter((p) => index.recordOf(p).segment === segment);
      if (group.length < positions.length) cursor = group[group.length - 1];
      const locations = group.map((p) => index.recordOf(p));
      const starts = [...new Set(locations.map((l) => l.offset))];
      const records = new Map((await this.reader!.read(segment, starts)).map((r, k) => [starts[k], r]));
      for (let k = 0; k < group.length; k++) {
        const position = group[k];
        // A message acknowledged (or purged) while the read was under way is gone.
        if (!index.holders.get(holder)?.has(position)) continue;
        const at = locations[k];
        const read = messageAt(records.get(at.offset) ?? null, at.op);
        if (!read) {
          this.o.logger.warn({ destination: holder, position }, `[${holder}] dropped: message at corrupt location: ${segmentName(at.segment)}:${at.offset}`);
          this.dropDamaged(holder, position);
          continue;
        }
        const to = index.dispatched.get(`${holder} ${position}`);
        const message = to === undefined ? read.message : { ...read.message, redeliveryCounter: read.message.redeliveryCounter + 1, dispatchedTo: to || undefined };
        out.push({ destination: read.destination, position, message });
      }
    }
    return out;
  }

  /** A pending message whose record cannot be read is removed for good (ActiveMQ's ignoreMissingJournalfiles). */
  private dropDamaged(holder: string, position: number): void {
    const subscription = subscriptionOf(holder);
    this.write({ op: 'remove', destination: subscription === undefined ? holder : '', messageId: '', subscription, position });
  }

  space(): StoreSpace {
    const used = this.bytesAtStart + (this.journal?.bytesOnDisk ?? 0) - this.bytesDeleted;
    return { used, available: Math.max(0, this.roomAtMeasure - (used - this.usedAtMeasure)), diskFull: this.diskFull };
  }

  private async measureSpace(): Promise<void> {
    const s = await fs.statfs(this.o.directory).catch(() => null);
    if (!s) return;
    this.usedAtMeasure = this.space().used;
    this.roomAtMeasure = Math.max(0, s.bavail * s.bsize - diskReserve(s.blocks * s.bsize));
    if (this.diskFull && this.roomAtMeasure > 0) {
      this.diskFull = false;
      const retried = this.afterRoom.splice(0);
      this.o.logger.info({ directory: this.o.directory, available: this.roomAtMeasure, retried: retried.length }, `The store's disk has room again: ${this.o.directory}`);
      for (const op of retried) this.write(op);
    }
  }

  async reclaim(): Promise<void> {
    await this.cleanup();
    await this.measureSpace();
  }

  /** A write found the disk full: said once; until room is seen again, GC and a measure run every second (acknowledgements free whole segments). */
  private outOfSpace(err: Error): void {
    this.roomAtMeasure = 0;
    this.usedAtMeasure = this.space().used;
    if (this.diskFull) return;
    this.diskFull = true;
    this.o.logger.error({ directory: this.o.directory, err: err.message }, err.message);
    const watch = setInterval(() => {
      if (this.closed || !this.diskFull) return clearInterval(watch);
      void this.reclaim();
    }, FULL_DISK_CHECK_INTERVAL);
    watch.unref();
  }

  private failed(err: Error): void {
    this.o.logger.error({ err: err.message, directory: this.o.directory }, `Journal stopped accepting writes: ${err.message}`);
    this.o.onFailure?.(err);
  }

  // ---- checkpoints ----

  /** Checkpoint when the journal has grown by at least the size of the last checkpoint (so checkpoints never cost more than the writes they save replaying). */
  private considerCheckpoint(): void {
    const written = (this.journal?.bytesWritten ?? 0) - this.bytesAtCheckpoint;
    if (written > 0 && written >= this.lastCheckpointBytes) this.checkpointDue = true;
  }

  /** Runs right after a batch is written: the index then matches the journal up to `position`. */
  private flushed(position: { segment: number; offset: number }): void {
    if (!this.checkpointDue && this.journal!.bytesWritten - this.bytesAtCheckpoint >= this.checkpointAfterBytes) this.checkpointDue = true;
    if (!this.checkpointDue || this.checkpointing) return;
    this.checkpointDue = false;
    this.checkpointing = this.checkpoint(position).finally(() => {
      this.checkpointing = null;
    });
  }

  private async checkpoint(position: { segment: number; offset: number }): Promise<void> {
    const data = encodeCheckpoint({ epoch: this.epoch, segment: position.segment, offset: position.offset, index: this.index! });
    this.bytesAtCheckpoint = this.journal!.bytesWritten;
    try {
      // The checkpoint may only name journal bytes that are durable.
      await this.journal!.sync();
      if (this.o.guard?.()) return;
      await writeCheckpoint(this.o.directory, data);
      this.lastCheckpointBytes = data.length;
      this.o.logger.debug({ segment: position.segment, offset: position.offset, bytes: data.length }, 'Checkpoint written');
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, `Checkpoint failed: ${(err as Error).message}`);
    }
  }

  // ---- GC ----

  /** Deletes segments nothing needs; rewrites forward the destination and subscription records that alone keep an old segment. One GC at a time. */
  cleanup(): Promise<number[]> {
    this.cleaning ??= this.collect().finally(() => {
      this.cleaning = null;
    });
    return this.cleaning;
  }

  private async collect(): Promise<number[]> {
    const journal = this.journal;
    const index = this.index;
    if (!journal || !index || journal.failed) return [];
    const existing = listSegments(this.o.directory);
    const current = journal.currentSegment;
    this.forwardMetadata(index.metadataOnly(existing, current));
    const removable = index.collectable(existing, current);
    if (removable.length === 0) return [];
    const reason = this.o.guard?.();
    if (reason) return [];
    for (const s of removable) {
      await this.reader?.forget(s);
      const file = join(this.o.directory, segmentName(s));
      const size = await fs.stat(file).then((st) => st.size, () => 0);
      if (await fs.unlink(file).then(() => true, () => false)) this.bytesDeleted += size;
      index.forget(s);
    }
    this.o.logger.info({ segments: removable }, `Cleanup removing the data files: [${removable.join(', ')}]`);
    return removable;
  }

  private forwardMetadata(segments: number[]): void {
    if (segments.length === 0) return;
    const inOld = (l: Location) => segments.includes(l.segment);
    const index = this.index!;
    for (const [destination, loc] of index.destinations) if (inOld(loc)) this.write({ op: 'add-destination', destination });
    for (const { record, loc } of index.subscriptions.values()) if (inOld(loc)) this.write({ op: 'add-subscription', subscription: record });
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    if (this.spaceTimer) clearInterval(this.spaceTimer);
    const journal = this.journal;
    if (!journal) return;
    await journal.idle();
    await this.checkpointing;
    if (!journal.failed && !this.o.guard?.()) {
      await journal.sync();
      // A clean shutdown leaves a checkpoint at the very end: the next start replays nothing.
      await writeCheckpoint(this.o.directory, encodeCheckpoint({ epoch: this.epoch, ...journal.position, index: this.index! })).catch((err: Error) =>
        this.o.logger.warn({ err: err.message }, `Final checkpoint failed: ${err.message}`),
      );
    }
    await journal.close();
    await this.reader?.close();
  }

  describe(): Record<string, unknown> {
    return {
      type: 'journal',
      directory: this.o.directory,
      epoch: this.epoch,
      journalDiskSyncStrategy: this.o.journalDiskSyncStrategy,
      journalMaxFileLength: this.o.journalMaxFileLength,
      segments: this.journal ? listSegments(this.o.directory) : [],
    };
  }
}

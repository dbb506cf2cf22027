/**
 * The append side of the journal: records are gathered into batches, each
 * batch is written with one write() and, when the sync strategy asks for it,
 * one fdatasync(). Writes that arrive while a batch is being written and
 * synced form the next batch (group commit). Callbacks run in append order,
 * after their batch is as durable as the strategy promises.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { BinaryWriter } from './binary.js';
import type { Location } from './live-index.js';
import { encodeSegmentHeader, SEGMENT_HEADER, segmentName } from './segment.js';
import type { WriteCallback } from './types.js';

export type SyncStrategy = 'always' | 'periodic' | 'never';

export interface JournalOptions {
  directory: string;
  /** KahaDB `journalMaxFileLength`: a segment rolls over once it would pass this. */
  maxFileLength: number;
  /** KahaDB `journalDiskSyncStrategy`. */
  syncStrategy: SyncStrategy;
  /** KahaDB `journalDiskSyncInterval` (periodic strategy), ms. */
  syncInterval: number;
  epoch: number;
  /** First segment this journal writes. */
  firstSegment: number;
  /** Asked before every write: a reason why this process may no longer write (it lost its lock), or null. */
  guard: () => string | null;
  /** The journal can no longer write (fenced, or an I/O error): everything pending failed with `err`. */
  onFailure: (err: Error) => void;
  /** After each batch is written (and synced as required), with the position it ended at. */
  onFlushed?: (position: { segment: number; offset: number }) => void;
}

export class JournalFencedError extends Error {
  override readonly name = 'JournalFencedError';
}

interface Batch {
  segment: number;
  offset: number;
  records: BinaryWriter;
  callbacks: WriteCallback[];
  located: Array<() => void>;
  durable: boolean;
  sealed: boolean;
}

export class Journal {
  private readonly batches: Batch[] = [];
  /** Batch buffers to reuse once written. */
  private readonly spare: BinaryWriter[] = [];
  /** End of the last batch written. */
  private segment: number;
  private offset = SEGMENT_HEADER;
  private fd: fs.FileHandle | null = null;
  private fdSegment = -1;
  private pumping = false;
  private scheduled = false;
  private dirty = false;
  private failure: Error | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private idleWaiters: Array<() => void> = [];
  bytesWritten = 0;

  constructor(private readonly o: JournalOptions) {
    this.segment = o.firstSegment;
    if (o.syncStrategy === 'periodic') {
      this.syncTimer = setInterval(() => void this.periodicSync(), o.syncInterval);
      this.syncTimer.unref();
    }
  }

  /** The segment being written (never collected). */
  get currentSegment(): number {
    return this.batches.length > 0 ? this.batches[0].segment : this.segment;
  }

  /** End of the last batch written: where the journal ends when idle. */
  get position(): { segment: number; offset: number } {
    return { segment: this.segment, offset: this.offset };
  }

  get failed(): Error | null {
    return this.failure;
  }

  /**
   * Appends one record: `encode` writes it into the batch and returns its
   * offset there; `located` runs with its final location when the batch is
   * written (the index follows the journal).
   */
  append(encode: (w: BinaryWriter) => number, located: (loc: Location) => void, done: WriteCallback | undefined, durable: boolean): void {
    if (this.failure) {
      done?.(this.failure);
      return;
    }
    let batch = this.openBatch();
    const before = batch.records.length;
    let at = encode(batch.records);
    if (batch.offset + batch.records.length > this.o.maxFileLength && batch.offset + before > SEGMENT_HEADER) {
      // It does not fit: the record starts the next segment.
      const bytes = Buffer.from(batch.records.buf.subarray(before, batch.records.length));
      batch.records.length = before;
      batch.sealed = true;
      batch = this.newBatch(batch.segment + 1, SEGMENT_HEADER);
      batch.records.ensure(bytes.length);
      bytes.copy(batch.records.buf, 0);
      batch.records.length = bytes.length;
      at = at - before;
    }
    const loc: Location = { segment: batch.segment, offset: batch.offset + at, op: -1 };
    batch.located.push(() => located(loc));
    if (done) batch.callbacks.push(done);
    if (durable) batch.durable = true;
    this.schedule();
  }

  private openBatch(): Batch {
    const last = this.batches[this.batches.length - 1];
    if (last && !last.sealed) return last;
    const segment = last ? last.segment : this.segment;
    const offset = last ? last.offset + last.records.length : this.offset;
    return offset >= this.o.maxFileLength ? this.newBatch(segment + 1, SEGMENT_HEADER) : this.newBatch(segment, offset);
  }

  private newBatch(segment: number, offset: number): Batch {
    const records = this.spare.pop() ?? new BinaryWriter(64 * 1024);
    records.length = 0;
    const batch: Batch = { segment, offset, records, callbacks: [], located: [], durable: false, sealed: false };
    this.batches.push(batch);
    return batch;
  }

  private schedule(): void {
    if (this.pumping || this.scheduled) return;
    this.scheduled = true;
    // Everything appended in this turn of the event loop joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.batches.length > 0 && !this.failure) {
        const batch = this.batches[0];
        batch.sealed = true;
        const reason = this.o.guard();
        if (reason) throw new JournalFencedError(reason);
        for (const located of batch.located) located();
        if (batch.segment !== this.fdSegment) await this.openSegment(batch.segment);
        const length = batch.records.length;
        if (length > 0) await this.fd!.write(batch.records.buf, 0, length, batch.offset);
        this.bytesWritten += length;
        if (batch.durable && this.o.syncStrategy === 'always') await this.fd!.datasync();
        else if (length > 0) this.dirty = true;
        this.batches.shift();
        this.segment = batch.segment;
        this.offset = batch.offset + length;
        if (this.spare.length < 4 && batch.records.buf.length <= 4 * 1024 * 1024) this.spare.push(batch.records);
        for (const cb of batch.callbacks) cb();
        this.o.onFlushed?.({ segment: batch.segment, offset: batch.offset + length });
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.pumping = false;
      if (this.batches.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      else if (!this.failure) this.schedule();
    }
  }

  private async openSegment(id: number): Promise<void> {
    if (this.fd) {
      // Leaving a segment: make it durable before moving on (KahaDB syncs on roll-over).
      if (this.o.syncStrategy !== 'never') await this.fd.datasync();
      await this.fd.close();
    }
    // O_EXCL: if another process created this segment, it is writing this store.
    try {
      this.fd = await fs.open(join(this.o.directory, segmentName(id)), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new JournalFencedError(`segment ${segmentName(id)} was created by another broker`);
      throw err;
    }
    this.fdSegment = id;
    await this.fd.write(encodeSegmentHeader({ epoch: this.o.epoch, id }), 0, SEGMENT_HEADER, 0);
  }

  private async periodicSync(): Promise<void> {
    if (!this.dirty || !this.fd || this.failure) return;
    this.dirty = false;
    try {
      await this.fd.datasync();
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Makes everything written so far durable, whatever the strategy. */
  async sync(): Promise<void> {
    await this.idle();
    if (this.fd && !this.failure) await this.fd.datasync();
  }

  /** Resolves when no batch is waiting or being written. */
  idle(): Promise<void> {
    if (this.batches.length === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const b of this.batches.splice(0)) for (const cb of b.callbacks) cb(err);
    for (const w of this.idleWaiters.splice(0)) w();
    this.o.onFailure(err);
  }

  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.idle();
    if (this.fd) {
      if (!this.failure && this.o.syncStrategy !== 'never') await this.fd.datasync().catch(() => undefined);
      await this.fd.close().catch(() => undefined);
      this.fd = null;
    }
  }
}

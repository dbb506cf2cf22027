/**
 * The append side of the journal: records are gathered into batches, each
 * batch is written with one write(). Under `always` the segment is opened
 * O_DSYNC, so that write returns once the batch is on disk; writes that arrive
 * meanwhile form the next batch (group commit). Under `periodic` a timer runs
 * fdatasync; under `never` the OS decides. Callbacks run in append order once
 * their batch is written.
 *
 * A full disk (ENOSPC, EDQUOT) is not fatal: the batch that did not fit, and
 * those queued behind it, fail with STORE_DISK_FULL, the segment is cut back
 * to its last whole batch, and the journal goes on with the next append.
 */
import fs, { constants } from 'node:fs';
import type { SyncPolicy } from './sync-policy.js';
import { join } from 'node:path';
import { storeError } from '../errors.js';
import { BinaryWriter } from '../util/binary.js';
import type { Location } from './live-index.js';
import { encodeSegmentHeader, SEGMENT_HEADER, segmentName } from './segment.js';
import type { WriteCallback } from './types.js';

export interface JournalOptions {
  directory: string;
  /** KahaDB `journalMaxFileLength`: a segment rolls over once it would pass this. */
  maxFileLength: number;
  /** KahaDB `journalDiskSyncStrategy` (and its interval). */
  sync: SyncPolicy;
  epoch: number;
  /** First segment this journal writes. */
  firstSegment: number;
  /** Asked before every write: a reason why this process may no longer write (it lost its lock), or null. */
  guard: () => string | null;
  /** The journal can no longer write (fenced, or an I/O error): everything pending failed with `err`. */
  onFailure: (err: Error) => void;
  /** The disk was full: the writes pending were failed with `err`; the journal still takes appends. */
  onDiskFull?: (err: Error) => void;
  /** After each batch is written (and synced as required), with the position it ended at. */
  onFlushed?: (position: { segment: number; offset: number }) => void;
}

interface Batch {
  segment: number;
  offset: number;
  records: BinaryWriter;
  callbacks: WriteCallback[];
  located: Array<() => void>;
  sealed: boolean;
}

export class Journal {
  private readonly batches: Batch[] = [];
  /** Batch buffers to reuse once written. */
  private readonly spare: BinaryWriter[] = [];
  /** End of the last batch written. */
  private segment: number;
  private offset = SEGMENT_HEADER;
  private fd = -1;
  private fdSegment = -1;
  private pumping = false;
  private scheduled = false;
  private dirty = false;
  private failure: Error | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private idleWaiters: Array<() => void> = [];
  bytesWritten = 0;
  /** Bytes of the segments this journal wrote, as they stand on disk. */
  bytesOnDisk = 0;

  constructor(private readonly o: JournalOptions) {
    this.segment = o.firstSegment;
    if (o.sync.syncEvery > 0) {
      this.syncTimer = setInterval(() => this.periodicSync(), o.sync.syncEvery);
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
  append(encode: (w: BinaryWriter) => number, located: (loc: Location) => void, done?: WriteCallback): void {
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
    const batch: Batch = { segment, offset, records, callbacks: [], located: [], sealed: false };
    this.batches.push(batch);
    return batch;
  }

  private schedule(): void {
    if (this.pumping || this.scheduled) return;
    this.scheduled = true;
    // Everything appended before control returns to the event loop (all the frames of one read) joins the batch.
    process.nextTick(() => {
      this.scheduled = false;
      if (!this.pumping) {
        this.pumping = true;
        this.next();
      }
    });
  }

  /** Writes the oldest batch, then the next: batches that filled up meanwhile go out together. */
  private next(): void {
    const batch = this.batches[0];
    if (!batch || this.failure) {
      this.pumping = false;
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    batch.sealed = true;
    const reason = this.o.guard();
    if (reason) return this.fail(storeError('STORE_FENCED', reason));
    if (batch.segment !== this.fdSegment) {
      this.openSegment(batch.segment, (err) => (err ? this.writeFailed(err, batch) : this.writeBatch(batch, 0)));
      return;
    }
    this.writeBatch(batch, 0);
  }

  /** Writes the batch from byte `from` on: a short write (a disk filling up) is followed by a write of the rest. */
  private writeBatch(batch: Batch, from: number): void {
    const length = batch.records.length;
    if (from >= length) return this.batchWritten(batch, length);
    fs.write(this.fd, batch.records.buf, from, length - from, batch.offset + from, (err, written) => {
      if (err) return this.writeFailed(err, batch);
      if (this.o.sync.writesNeedSync) this.dirty = true;
      this.writeBatch(batch, from + written);
    });
  }

  private batchWritten(batch: Batch, length: number): void {
    this.bytesWritten += length;
    this.bytesOnDisk += length;
    this.batches.shift();
    this.segment = batch.segment;
    this.offset = batch.offset + length;
    // The index learns where records are once they are in the file (a failed batch leaves no trace in it).
    for (const located of batch.located) located();
    if (this.spare.length < 4 && batch.records.buf.length <= 4 * 1024 * 1024) this.spare.push(batch.records);
    for (const cb of batch.callbacks) cb();
    this.o.onFlushed?.({ segment: batch.segment, offset: batch.offset + length });
    this.next();
  }

  /**
   * A write or a segment's creation failed. Out of space: the segment is cut
   * back to where this batch began, this batch and every one queued behind it
   * (their offsets assumed this one) fail, and the journal carries on. Any
   * other error stops the journal.
   */
  private writeFailed(err: NodeJS.ErrnoException | Error, batch: Batch): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT') return this.fail(err);
    const full = storeError('STORE_DISK_FULL', this.o.directory, err.message);
    const cut = (): void => {
      const failed = this.batches.splice(0);
      this.segment = batch.segment;
      this.offset = batch.offset;
      this.pumping = false;
      this.o.onDiskFull?.(full);
      for (const b of failed) for (const cb of b.callbacks) cb(full);
      for (const w of this.idleWaiters.splice(0)) w();
      if (this.batches.length > 0) this.schedule();
    };
    if (this.fdSegment !== batch.segment) {
      // The new segment could not be started: it is removed, to be created again by the next append.
      this.discardSegment(batch.segment, cut);
      return;
    }
    fs.ftruncate(this.fd, batch.offset, (e) => (e ? this.fail(e) : cut()));
  }

  private discardSegment(id: number, then: () => void): void {
    const fd = this.fd;
    this.fd = -1;
    this.fdSegment = -1;
    const unlink = () => fs.unlink(join(this.o.directory, segmentName(id)), () => then());
    if (fd >= 0) fs.close(fd, unlink);
    else unlink();
  }

  private openSegment(id: number, done: (err?: Error) => void): void {
    const open = () => {
      // O_EXCL: if another process created this segment, it is writing this store.
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | this.o.sync.openFlags;
      fs.open(join(this.o.directory, segmentName(id)), flags, 0o644, (err, fd) => {
        if (err) return done(err.code === 'EEXIST' ? storeError('STORE_FENCED', `segment ${segmentName(id)} was created by another broker`) : err);
        this.fd = fd;
        const header = encodeSegmentHeader({ epoch: this.o.epoch, id });
        fs.write(fd, header, 0, header.length, 0, (e, written) => {
          if (e) return done(e);
          if (written < header.length) return done(Object.assign(new Error(`short write of the header of ${segmentName(id)}`), { code: 'ENOSPC' }));
          this.fdSegment = id;
          this.bytesOnDisk += header.length;
          done();
        });
      });
    };
    if (this.fd < 0) return open();
    // Leaving a segment: make it durable before moving on (KahaDB syncs on roll-over).
    const old = this.fd;
    this.fd = -1;
    const close = () => fs.close(old, () => open());
    if (this.o.sync.syncOnLeave) fs.fdatasync(old, close);
    else close();
  }

  private periodicSync(): void {
    if (!this.dirty || this.fd < 0 || this.failure) return;
    this.dirty = false;
    fs.fdatasync(this.fd, (err) => {
      if (err) this.fail(err);
    });
  }

  /** Makes everything written so far durable, whatever the strategy. */
  async sync(): Promise<void> {
    await this.idle();
    if (this.fd < 0 || this.failure) return;
    const fd = this.fd;
    await new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve()));
  }

  /** Resolves when no batch is waiting or being written. */
  idle(): Promise<void> {
    if (this.batches.length === 0 && !this.pumping) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private fail(err: Error): void {
    if (!this.failure) {
      this.failure = err;
      this.o.onFailure(err);
    }
    for (const b of this.batches.splice(0)) for (const cb of b.callbacks) cb(this.failure);
    this.pumping = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    await this.idle();
    if (this.fd >= 0) {
      if (!this.failure && this.o.sync.syncOnLeave) await this.sync();
      const fd = this.fd;
      this.fd = -1;
      await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    }
  }
}

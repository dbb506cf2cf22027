/**
 * Reads records back out of journal segments by location, for destinations
 * paging in their backlog: records close together in one segment come in one
 * read (a backlog is mostly written in order).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { segmentName } from './segment.js';
import { RECORD_HEADER, RECORD_MAGIC, recordChecksum } from './records.js';

/** The most one read takes in; records beyond it are fetched by the next read. */
const MAX_READ = 4 * 1024 * 1024;
/** Room past the last record's start, so that it usually comes whole in the same read. */
const SLACK = 64 * 1024;

export interface ReadRecord {
  offset: number;
  type: number;
  payload: Buffer;
}

export class JournalReader {
  /** Open segments; the promise is kept so that queues reading one segment at once share one handle. */
  private readonly files = new Map<number, Promise<fs.FileHandle>>();

  constructor(private readonly directory: string) {}

  private file(segment: number): Promise<fs.FileHandle> {
    let f = this.files.get(segment);
    if (!f) {
      f = fs.open(join(this.directory, segmentName(segment)), 'r');
      this.files.set(segment, f);
      // A failed open is not kept: the next read tries again.
      void f.catch(() => this.files.get(segment) === f && this.files.delete(segment));
    }
    return f;
  }

  /**
   * The records starting at `offsets` (ascending) in one segment, in that
   * order; null for one that is missing or damaged (its checksum is checked).
   */
  async read(segment: number, offsets: readonly number[]): Promise<Array<ReadRecord | null>> {
    const f = await this.file(segment);
    const out: Array<ReadRecord | null> = [];
    let buf = Buffer.alloc(0);
    let from = 0;
    const ensure = async (start: number, length: number): Promise<boolean> => {
      if (start >= from && start + length <= from + buf.length) return true;
      const want = Math.max(length, Math.min(MAX_READ, length + SLACK));
      const next = Buffer.allocUnsafe(want);
      const { bytesRead } = await f.read(next, 0, want, start);
      buf = next.subarray(0, bytesRead);
      from = start;
      return bytesRead >= length;
    };
    // The furthest offset the next read takes in with the current one (it only moves forward).
    let far = 0;
    for (let i = 0; i < offsets.length; i++) {
      const at = offsets[i];
      // Read ahead to the next offsets in one go while they are close.
      if (far < i) far = i;
      while (far + 1 < offsets.length && offsets[far + 1] - at < MAX_READ - SLACK) far++;
      const span = offsets[far] - at + RECORD_HEADER;
      if (!(await ensure(at, span)) && !(await ensure(at, RECORD_HEADER))) {
        out.push(null);
        continue;
      }
      const o = at - from;
      if (buf.readUInt16BE(o) !== RECORD_MAGIC) {
        out.push(null);
        continue;
      }
      const length = buf.readUInt32LE(o + 2);
      if (!(await ensure(at, RECORD_HEADER + length))) {
        out.push(null);
        continue;
      }
      const p = at - from;
      if (buf.readUInt32LE(p + 7) !== recordChecksum(buf, p, length)) {
        out.push(null);
        continue;
      }
      out.push({ offset: at, type: buf[p + 6], payload: buf.subarray(p + RECORD_HEADER, p + RECORD_HEADER + length) });
    }
    return out;
  }

  /** A segment was deleted (GC): its file is closed. */
  async forget(segment: number): Promise<void> {
    const f = this.files.get(segment);
    this.files.delete(segment);
    await f?.then((h) => h.close(), () => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((f) => f.then((h) => h.close(), () => undefined)));
  }
}

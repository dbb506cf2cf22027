/**
 * The positions of one destination's (or durable subscription's) pending
 * messages in the journal, in order: 8 bytes a message, so that ten million
 * pending messages cost 80 MB of index rather than gigabytes of message
 * objects. Positions arrive in increasing order (a queue's messages are
 * appended to the journal in the order they arrive); they leave mostly from
 * the front (acknowledgements), sometimes from the middle (selectors, groups,
 * expiry).
 *
 * Kept as chunks of a Float64Array each; a removed position is stored
 * negated (a tombstone), and a chunk is compacted once half of it is gone.
 */
const CHUNK = 4096;

class Chunk {
  readonly values = new Float64Array(CHUNK);
  length = 0;
  live = 0;

  first(): number {
    return Math.abs(this.values[0]);
  }

  last(): number {
    return Math.abs(this.values[this.length - 1]);
  }

  /** Index of `position` (live or not) in this chunk, or -1. */
  indexOf(position: number): number {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = Math.abs(this.values[mid]);
      if (v === position) return mid;
      if (v < position) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  compact(): void {
    let w = 0;
    for (let r = 0; r < this.length; r++) {
      const v = this.values[r];
      if (v > 0) this.values[w++] = v;
    }
    this.length = w;
  }
}

export class PositionSet {
  private chunks: Chunk[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The largest position ever added and still held (0 when empty). */
  get last(): number {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i];
      for (let j = c.length - 1; j >= 0; j--) if (c.values[j] > 0) return c.values[j];
    }
    return 0;
  }

  /** Adds a position; false when it is already there. Out-of-order positions (rare) are inserted where they belong. */
  add(position: number): boolean {
    const tail = this.chunks[this.chunks.length - 1];
    if (!tail || position > tail.last()) {
      let c = tail;
      if (!c || c.length === CHUNK) this.chunks.push((c = new Chunk()));
      c.values[c.length++] = position;
      c.live++;
      this.count++;
      return true;
    }
    return this.insert(position);
  }

  private insert(position: number): boolean {
    const ci = this.chunkFor(position);
    const c = this.chunks[ci];
    const at = c.indexOf(position);
    if (at >= 0) {
      if (c.values[at] > 0) return false;
      c.values[at] = position;
      c.live++;
      this.count++;
      return true;
    }
    // Rebuild the chunk with the position in order (it may split in two).
    const values = [...c.values.subarray(0, c.length)].filter((v) => v > 0);
    values.push(position);
    values.sort((a, b) => a - b);
    const parts: Chunk[] = [];
    for (let i = 0; i < values.length; i += CHUNK) {
      const part = new Chunk();
      for (const v of values.slice(i, i + CHUNK)) part.values[part.length++] = v;
      part.live = part.length;
      parts.push(part);
    }
    this.chunks.splice(ci, 1, ...parts);
    this.count++;
    return true;
  }

  /** The chunk that holds, or would hold, `position`. */
  private chunkFor(position: number): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.chunks[mid].first() <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  has(position: number): boolean {
    if (this.chunks.length === 0) return false;
    const c = this.chunks[this.chunkFor(position)];
    const at = c.indexOf(position);
    return at >= 0 && c.values[at] > 0;
  }

  /** Removes a position; false when it was not there. */
  delete(position: number): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(position);
    const c = this.chunks[ci];
    const at = c.indexOf(position);
    if (at < 0 || c.values[at] < 0) return false;
    c.values[at] = -position;
    c.live--;
    this.count--;
    if (c.live === 0) this.chunks.splice(ci, 1);
    else if (c.live * 2 < c.length && c.length > 64) c.compact();
    return true;
  }

  /** Up to `max` positions greater than `after`, in order. */
  after(after: number, max: number): number[] {
    const out: number[] = [];
    if (this.chunks.length === 0 || max <= 0) return out;
    for (let ci = this.chunkFor(after); ci < this.chunks.length && out.length < max; ci++) {
      const c = this.chunks[ci];
      for (let i = 0; i < c.length && out.length < max; i++) {
        const v = c.values[i];
        if (v > after) out.push(v);
      }
    }
    return out;
  }

  /** How many positions are greater than `after`. */
  countAfter(after: number): number {
    let n = 0;
    for (let ci = this.chunks.length - 1; ci >= 0; ci--) {
      const c = this.chunks[ci];
      if (c.last() <= after) break;
      if (c.first() > after) {
        n += c.live;
        continue;
      }
      for (let i = 0; i < c.length; i++) if (c.values[i] > after) n++;
    }
    return n;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (const c of this.chunks) for (let i = 0; i < c.length; i++) if (c.values[i] > 0) yield c.values[i];
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }
}

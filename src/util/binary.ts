/** Little-endian binary writing and reading: journal records and snapshots, bridge batches. */

/** Strings up to this long are copied byte by byte while they are ASCII (ids, names, paths): no call into C++ per string. */
const SHORT = 64;

export class BinaryWriter {
  buf: Buffer;
  length = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16LE(v, this.length);
    this.length += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.length);
    this.length += 8;
  }

  str(s: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    this.ensure(4 + s.length * 3);
    const at = this.length + 4;
    const n = s.length <= SHORT ? this.ascii(s, at) : this.buf.write(s, at, 'utf8');
    this.buf.writeUInt32LE(n, this.length);
    this.length = at + n;
  }

  private ascii(s: string, at: number): number {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return buf.write(s, at, 'utf8');
      buf[at + i] = c;
    }
    return s.length;
  }

  bytes(b: Buffer): void {
    this.ensure(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.length);
    b.copy(this.buf, this.length + 4);
    this.length += 4 + b.length;
  }

  /** Reserves `n` bytes to fill in later (record headers). */
  skip(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  /** Hands out what was written and starts over with a fresh buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.buf = Buffer.allocUnsafe(Math.max(4096, this.buf.length));
    this.length = 0;
    return out;
  }
}


export class BinaryReader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    /** The error for a read past `end`: at `pos`, `n` bytes more were needed. */
    private readonly truncated: (pos: number, n: number) => Error,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw this.truncated(this.pos, n);
  }

  /** Bytes left before the end. */
  remaining(): number {
    return this.end - this.pos;
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  skipStr(): void {
    const n = this.u32();
    this.need(n);
    this.pos += n;
  }

  /** A view into the underlying buffer, not a copy. */
  bytes(): Buffer {
    const n = this.u32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }
}

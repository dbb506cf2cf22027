import { codecError } from './errors.js';
import { unescapeHeaderValue } from './escape.js';
import { type Frame, type Headers, type StompVersion, usesHeaderEscaping } from './frame.js';

export interface ParserLimits {
  /** Largest frame (command, headers and body) in bytes. ActiveMQ's `wireformat.maxFrameSize`. */
  maxFrameSize: number;
  /** Most header lines in one frame. ActiveMQ's `maxHeaders`. */
  maxHeaders: number;
  /** Longest command or header line in bytes. ActiveMQ's `maxHeaderLength`. */
  maxHeaderLineLength: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = {
  maxFrameSize: 104_857_600,
  maxHeaders: 1000,
  maxHeaderLineLength: 10_240,
};

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const CONTENT_LENGTH = /^[0-9]+$/;

/**
 * Streaming STOMP frame parser. Feed it bytes in any chunking with `push`;
 * it calls `onFrame` once per complete frame, in order, synchronously, so a
 * caller may change `version` from inside `onFrame` (after CONNECT) and the
 * next frame of the same chunk is read with the new rules.
 *
 * A body may be a view into the chunk it arrived in: a caller that keeps it
 * long should copy it, or it keeps the whole chunk alive.
 *
 * Throws only StompCodecError. After an error the parser must be discarded.
 */
export class FrameParser {
  version: StompVersion = '1.0';
  private readonly limits: ParserLimits;
  /** Bytes of an unfinished command or header line, kept until its LF arrives. */
  private partialLine: Buffer | null = null;
  private inBody = false;
  private command = '';
  private headers: Headers = Object.create(null);
  private headerCount = 0;
  private frameBytes = 0;
  private escaped = false;
  /** Body length announced by `content-length`, or -1 for a NUL-terminated body. */
  private contentLength = -1;
  private bodyChunks: Buffer[] = [];
  private bodyLength = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    limits: Partial<ParserLimits> = {},
  ) {
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes of an unfinished frame held here (its body so far, a partial line). */
  get bufferedBytes(): number {
    return this.bodyLength + (this.partialLine?.length ?? 0);
  }

  /** True while bytes of an unfinished frame are buffered. */
  get midFrame(): boolean {
    return this.inBody || this.command !== '' || this.partialLine !== null;
  }

  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.partialLine) {
      buf = Buffer.concat([this.partialLine, chunk]);
      this.partialLine = null;
    }
    let pos = 0;
    const len = buf.length;
    while (pos < len) {
      if (this.inBody) {
        pos = this.readBody(buf, pos);
        continue;
      }
      if (this.command === '') {
        // EOLs between frames are heart-beats.
        while (pos < len && (buf[pos] === LF || buf[pos] === CR)) pos++;
        if (pos === len) return;
      }
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        this.keepPartialLine(buf, pos);
        return;
      }
      this.readLine(buf, pos, lf);
      pos = lf + 1;
    }
  }

  private keepPartialLine(buf: Buffer, pos: number): void {
    const rest = buf.length - pos;
    if (rest > this.limits.maxHeaderLineLength) {
      throw codecError('HEADER_TOO_LONG', this.limits.maxHeaderLineLength);
    }
    this.checkFrameSize(this.frameBytes + rest);
    this.partialLine = Buffer.from(buf.subarray(pos));
  }

  private readLine(buf: Buffer, start: number, lf: number): void {
    let end = lf;
    if (end > start && buf[end - 1] === CR) end--;
    if (end - start > this.limits.maxHeaderLineLength) {
      throw codecError('HEADER_TOO_LONG', this.limits.maxHeaderLineLength);
    }
    this.frameBytes += lf + 1 - start;
    this.checkFrameSize(this.frameBytes);

    if (this.command === '') {
      this.command = buf.toString('utf8', start, end).trim();
      if (this.command === '') throw codecError('EMPTY_COMMAND');
      this.escaped = usesHeaderEscaping(this.command, this.version);
      return;
    }
    if (end === start) {
      this.startBody();
      return;
    }
    if (++this.headerCount > this.limits.maxHeaders) {
      throw codecError('TOO_MANY_HEADERS', this.limits.maxHeaders);
    }
    // One decode per line: crossing into C++ costs more than splitting in JS.
    const line = buf.toString('utf8', start, end);
    const colon = line.indexOf(':');
    if (colon === -1) {
      throw codecError('MALFORMED_HEADER', line.slice(0, 80));
    }
    let name = line.slice(0, colon);
    let value = line.slice(colon + 1);
    if (this.escaped) {
      name = unescapeHeaderValue(name);
      value = unescapeHeaderValue(value);
    } else if (this.version === '1.0') {
      name = name.trim();
      value = value.trim();
    }
    // Repeated headers: the first one wins (STOMP 1.2, "Repeated Header Entries").
    if (!(name in this.headers)) this.headers[name] = value;
  }

  private startBody(): void {
    const declared = this.headers['content-length'];
    this.contentLength = -1;
    if (declared !== undefined) {
      const text = declared.trim();
      if (!CONTENT_LENGTH.test(text)) {
        throw codecError('BAD_CONTENT_LENGTH', declared);
      }
      this.contentLength = Number(text);
      this.checkFrameSize(this.frameBytes + this.contentLength);
    }
    this.inBody = true;
  }

  private readBody(buf: Buffer, pos: number): number {
    const available = buf.length - pos;
    if (this.contentLength >= 0) {
      const remaining = this.contentLength - this.bodyLength;
      if (available <= remaining) {
        this.collect(buf, pos, buf.length);
        return buf.length;
      }
      if (buf[pos + remaining] !== NUL) {
        throw codecError('MISSING_NUL', this.contentLength);
      }
      this.finish(buf, pos, pos + remaining);
      return pos + remaining + 1;
    }
    const nul = buf.indexOf(NUL, pos);
    if (nul === -1) {
      this.checkFrameSize(this.frameBytes + this.bodyLength + available);
      this.collect(buf, pos, buf.length);
      return buf.length;
    }
    this.checkFrameSize(this.frameBytes + this.bodyLength + (nul - pos));
    this.finish(buf, pos, nul);
    return nul + 1;
  }

  private collect(buf: Buffer, start: number, end: number): void {
    if (end > start) {
      this.bodyChunks.push(buf.subarray(start, end));
      this.bodyLength += end - start;
    }
  }

  private finish(buf: Buffer, start: number, end: number): void {
    let body: Buffer;
    if (this.bodyChunks.length === 0) {
      body = buf.subarray(start, end);
    } else {
      this.collect(buf, start, end);
      body = Buffer.concat(this.bodyChunks, this.bodyLength);
    }
    const frame: Frame = { command: this.command, headers: this.headers, body };
    this.command = '';
    this.headers = Object.create(null);
    this.headerCount = 0;
    this.frameBytes = 0;
    this.inBody = false;
    this.bodyChunks = [];
    this.bodyLength = 0;
    this.onFrame(frame);
  }

  private checkFrameSize(size: number): void {
    if (size > this.limits.maxFrameSize) {
      throw codecError('FRAME_TOO_LARGE', this.limits.maxFrameSize);
    }
  }
}

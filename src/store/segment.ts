/**
 * Journal segments: `db-<N>.log` files, each a 32-byte header (magic, format,
 * the writing master's epoch, N) followed by records.
 */
import { readdirSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { RECORD_HEADER, RECORD_MAGIC, recordChecksum } from './records.js';

export const SEGMENT_HEADER = 32;
const SEGMENT_MAGIC = 'AMQJ';
/** 2: removes and dispatch marks name the message's position; 1 (named by message id only) is still read. */
const FORMAT = 2;

export function segmentName(id: number): string {
  return `db-${id}.log`;
}

export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => /^db-(\d+)\.log$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export interface SegmentHeader {
  epoch: number;
  id: number;
  format: number;
}

export function encodeSegmentHeader(h: Omit<SegmentHeader, 'format'>): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER);
  b.write(SEGMENT_MAGIC, 0, 'latin1');
  b.writeUInt16LE(FORMAT, 4);
  b.writeUInt32LE(h.epoch, 8);
  b.writeUInt32LE(h.id, 12);
  b.writeDoubleLE(Date.now(), 16);
  b.writeUInt32LE(crc32(b.subarray(0, 24)), 24);
  return b;
}

/** Null when the header is missing or damaged. */
export function readSegmentHeader(buf: Buffer): SegmentHeader | null {
  if (buf.length < SEGMENT_HEADER) return null;
  const format = buf.readUInt16LE(4);
  if (buf.toString('latin1', 0, 4) !== SEGMENT_MAGIC || format < 1 || format > FORMAT) return null;
  if (buf.readUInt32LE(24) !== crc32(buf.subarray(0, 24))) return null;
  return { epoch: buf.readUInt32LE(8), id: buf.readUInt32LE(12), format };
}

export interface ScannedRecord {
  offset: number;
  type: number;
  payload: Buffer;
}

export interface Damage {
  /** `middle`: valid records follow it; `tail`: nothing valid follows. */
  where: 'middle' | 'tail';
  from: number;
  to: number;
  reason: string;
}

/** Length of a valid record at `at`, or -1. */
export function recordLengthAt(buf: Buffer, at: number): number {
  return validRecordAt(buf, at, buf.length);
}

function validRecordAt(buf: Buffer, at: number, end: number): number {
  if (at + RECORD_HEADER > end || buf.readUInt16BE(at) !== RECORD_MAGIC) return -1;
  const len = buf.readUInt32LE(at + 2);
  if (at + RECORD_HEADER + len > end) return -1;
  if (buf.readUInt32LE(at + 7) !== recordChecksum(buf, at, len)) return -1;
  return RECORD_HEADER + len;
}

function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

function describe(buf: Buffer, at: number, end: number): string {
  if (isZero(buf, at, end)) return 'zero-filled tail';
  if (at + RECORD_HEADER > end) return 'partial record header';
  if (buf.readUInt16BE(at) !== RECORD_MAGIC) return 'no record marker';
  const len = buf.readUInt32LE(at + 2);
  if (at + RECORD_HEADER + len > end) return 'partial record';
  return 'checksum mismatch';
}

/**
 * Walks the records of one segment from `start` to `end`, handing each valid
 * one to `onRecord`. A damaged stretch followed by valid records is skipped
 * and reported as `middle`; one that runs to the end as `tail`. Returns the
 * offset just past the last valid record.
 */
export function scanSegment(buf: Buffer, start: number, end: number, onRecord: (r: ScannedRecord) => void, onDamage: (d: Damage) => void): number {
  let at = start;
  let lastGood = start;
  while (at < end) {
    const len = validRecordAt(buf, at, end);
    if (len > 0) {
      onRecord({ offset: at, type: buf[at + 6], payload: buf.subarray(at + RECORD_HEADER, at + len) });
      at += len;
      lastGood = at;
      continue;
    }
    const reason = describe(buf, at, end);
    let next = -1;
    for (let probe = buf.indexOf(0xa5, at + 1); probe >= 0 && probe < end; probe = buf.indexOf(0xa5, probe + 1)) {
      if (validRecordAt(buf, probe, end) > 0) {
        next = probe;
        break;
      }
    }
    if (next < 0) {
      onDamage({ where: 'tail', from: at, to: end, reason });
      return lastGood;
    }
    onDamage({ where: 'middle', from: at, to: next, reason });
    at = next;
  }
  return lastGood;
}

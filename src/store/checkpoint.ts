/**
 * The checkpoint file `db.data`: the live index as of a journal position.
 * Recovery loads it and replays only the journal after that position; without
 * it (deleted, or damaged) recovery replays the whole journal and reaches the
 * same state. Written to a temporary file, synced, then renamed into place.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BinaryReader, BinaryWriter } from '../util/binary.js';
import { decodeLegacyIndex } from './legacy-checkpoint.js';
import { LiveIndex } from './live-index.js';
import { truncatedRecord } from './records.js';

const CHECKPOINT_FILE = 'db.data';
const MAGIC = 'AMQX';
/** 3: pending messages by position; 1 and 2 (by message id) are still read. */
const FORMAT = 3;

export interface Checkpoint {
  epoch: number;
  segment: number;
  offset: number;
  index: LiveIndex;
}

/** Serialises the checkpoint now (the index must not change during the call). */
export function encodeCheckpoint(c: Checkpoint): Buffer {
  const w = new BinaryWriter(1 << 16);
  w.ensure(4);
  w.buf.write(MAGIC, 0, 'latin1');
  w.length = 4;
  w.u16(FORMAT);
  w.u32(c.epoch);
  w.u32(c.segment);
  w.f64(c.offset);
  c.index.encode(w);
  w.u32(crc32(w.buf.subarray(0, w.length)));
  return w.take();
}

export async function writeCheckpoint(directory: string, data: Buffer): Promise<void> {
  const path = join(directory, CHECKPOINT_FILE);
  const tmp = `${path}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.write(data, 0, data.length, 0);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
  const dir = await fs.open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export type CheckpointReadResult = { kind: 'missing' } | { kind: 'damaged'; reason: string } | { kind: 'ok'; checkpoint: Checkpoint };

export function readCheckpoint(directory: string): CheckpointReadResult {
  const path = join(directory, CHECKPOINT_FILE);
  if (!existsSync(path)) return { kind: 'missing' };
  const buf = readFileSync(path);
  if (buf.length < 26 || buf.toString('latin1', 0, 4) !== MAGIC) return { kind: 'damaged', reason: 'not a checkpoint file' };
  if (buf.readUInt32LE(buf.length - 4) !== crc32(buf.subarray(0, buf.length - 4))) return { kind: 'damaged', reason: 'checksum mismatch' };
  try {
    const r = new BinaryReader(buf, 4, buf.length - 4, truncatedRecord);
    const format = r.u16();
    if (format < 1 || format > FORMAT) return { kind: 'damaged', reason: 'unknown format' };
    const epoch = r.u32();
    const segment = r.u32();
    const offset = r.f64();
    return { kind: 'ok', checkpoint: { epoch, segment, offset, index: format >= 3 ? LiveIndex.decode(r) : decodeLegacyIndex(r, format) } };
  } catch (err) {
    return { kind: 'damaged', reason: (err as Error).message };
  }
}

/**
 * Opening a journal: load the checkpoint if there is a sound one, replay the
 * records after it (all of them without it), cut off a damaged tail, skip
 * damaged stretches, ignore what a fenced master wrote after a new master took
 * over, and rebuild what the broker needs: pending messages in order, durable
 * subscriptions with theirs, destinations.
 */
import { closeSync, openSync, readSync, truncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../config/logger.js';
import { readCheckpoint } from './checkpoint.js';
import { LiveIndex, type Location, type PackedLocation } from './live-index.js';
import { decodeRecord, type EpochMark, peekAdd, readAddedMessage, RECORD_HEADER, RECORD_MAGIC, RecordType } from './records.js';
import { listSegments, readSegmentHeader, recordLengthAt, scanSegment, SEGMENT_HEADER, segmentName } from './segment.js';
import type { RecoveredState, StoredMessage } from './types.js';

export interface JournalRecovery {
  index: LiveIndex;
  state: RecoveredState;
  /** Highest epoch found (segment headers, epoch records, checkpoint). */
  epoch: number;
  /** Last segment and where its valid records end (0, 0 when the journal is empty). */
  lastSegment: number;
  lastEnd: number;
}

/** The epoch written in a segment's header and in its first record, if that is an epoch mark. */
function readSegmentStart(path: string): { epoch: number; mark: EpochMark | null } {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(SEGMENT_HEADER + RECORD_HEADER + 16);
    const n = readSync(fd, head, 0, head.length, 0);
    const header = readSegmentHeader(head.subarray(0, n));
    let mark: EpochMark | null = null;
    scanSegment(head.subarray(0, n), SEGMENT_HEADER, n, (r) => {
      if (r.type === RecordType.Epoch && mark === null) {
        const d = decodeRecord(r.type, r.payload);
        if (d.type === 'epoch') mark = d.mark;
      }
    }, () => {});
    return { epoch: header?.epoch ?? 0, mark };
  } finally {
    closeSync(fd);
  }
}

export interface RecoveryOptions {
  /** KahaDB `checkForCorruptJournalFiles`: also checksum the records the checkpoint points to (default false). */
  checkForCorruptJournalFiles?: boolean;
}

export async function recoverJournal(directory: string, logger: Logger, options: RecoveryOptions = {}): Promise<JournalRecovery> {
  const t0 = performance.now();
  const segments = listSegments(directory);
  const present = new Set(segments);
  // Read every segment (in parallel) before building the index: the big buffers are allocated while
  // the heap is still small, so the garbage collections they trigger are cheap.
  const contents = await Promise.all(segments.map((s) => readFile(join(directory, segmentName(s)))));
  const files = new Map<number, Buffer>(segments.map((s, i) => [s, contents[i]]));
  const cp = readCheckpoint(directory);
  const file = (s: number): Buffer | undefined => files.get(s);

  let epoch = 0;
  const fences = new Map<number, number>();
  for (const s of segments) {
    const start = readSegmentStart(join(directory, segmentName(s)));
    epoch = Math.max(epoch, start.epoch);
    if (start.mark) {
      epoch = Math.max(epoch, start.mark.epoch);
      const prev = fences.get(start.mark.fencedSegment);
      fences.set(start.mark.fencedSegment, prev === undefined ? start.mark.fencedEnd : Math.min(prev, start.mark.fencedEnd));
    }
  }

  let index = new LiveIndex();
  let from = { segment: segments[0] ?? 0, offset: SEGMENT_HEADER };
  if (cp.kind === 'ok') {
    index = cp.checkpoint.index;
    epoch = Math.max(epoch, cp.checkpoint.epoch);
    from = { segment: cp.checkpoint.segment, offset: cp.checkpoint.offset };
    dropMissing(index, present, logger);
  } else if (cp.kind === 'damaged') {
    logger.warn({ reason: cp.reason }, 'Index corrupted. Recovering the index through journal replay.');
  }
  if (segments.length > 0) logger.info({ segment: from.segment, offset: from.offset }, `Recovering from the journal @${segmentName(from.segment)}:${from.offset}`);
  else logger.info({ directory }, `Creating a new journal in ${directory}`);

  let operations = 0;
  let lastEnd = 0;
  const lastSegment = segments.length > 0 ? segments[segments.length - 1] : 0;
  for (const s of segments) {
    if (s < from.segment) continue;
    const name = segmentName(s);
    const buf = files.get(s)!;
    if (buf.length >= SEGMENT_HEADER && !readSegmentHeader(buf)) logger.warn({ file: name }, `Journal file ${name} has a damaged header; its records are read anyway`);
    const start = s === from.segment ? Math.max(from.offset, SEGMENT_HEADER) : SEGMENT_HEADER;
    const fence = fences.get(s);
    let end = buf.length;
    if (fence !== undefined && fence < buf.length) {
      logger.warn({ file: name, offset: fence, bytes: buf.length - fence }, `Ignored ${buf.length - fence} bytes written to '${name}' after offset ${fence} by a master that had lost the lock`);
      end = fence;
    }
    let tailDamage = -1;
    const validEnd = scanSegment(
      buf,
      start,
      end,
      (r) => {
        operations++;
        applyRecord(index, r.type, r.payload, { segment: s, offset: r.offset, op: -1 });
      },
      (d) => {
        if (d.where === 'middle') {
          logger.warn({ file: name, from: d.from, to: d.to, reason: d.reason }, `Corrupt journal records found in '${name}' between offsets: ${d.from}..${d.to}`);
        } else {
          tailDamage = d.from;
          logger.warn({ file: name, offset: d.from, bytes: d.to - d.from, reason: d.reason }, `Journal '${name}' has a damaged tail at offset ${d.from} (${d.to - d.from} bytes, ${d.reason}): cut off, every earlier record kept`);
        }
      },
    );
    if (s === lastSegment) {
      lastEnd = validEnd;
      if (tailDamage >= 0 && fence === undefined) {
        truncateSync(join(directory, name), validEnd);
        files.set(s, buf.subarray(0, validEnd));
      }
    }
  }
  const state = buildState(index, (loc, id) => readMessage(file, loc, options.checkForCorruptJournalFiles ?? false, id), logger);
  state.operations = operations;
  state.seconds = (performance.now() - t0) / 1000;
  return { index, state, epoch, lastSegment, lastEnd };
}

function applyRecord(index: LiveIndex, type: number, payload: Buffer, loc: Location): void {
  if (type === RecordType.Add) {
    // The message itself is decoded later, and only if it is still pending.
    const a = peekAdd(payload);
    index.add(a.destination, a.messageId, a.subscriptions, loc);
    if (a.duplicateId !== undefined) index.duplicates.remember(a.destination, a.duplicateId);
    return;
  }
  const d = decodeRecord(type, payload);
  if (d.type === 'op') index.apply(d.op, loc);
  else if (d.type === 'transaction') d.ops.forEach((op, i) => index.apply(op, { ...loc, op: i }));
  else index.applyEpoch(d.mark, loc);
}

/**
 * The message of the Add record at `loc`. Records replayed in this recovery
 * were verified as they were scanned; those the checkpoint points to are
 * checksummed only with `verify` (KahaDB's checkForCorruptJournalFiles), and
 * one that does not decode counts as corrupt either way.
 */
function readMessage(file: (s: number) => Buffer | undefined, loc: Location, verify: boolean, id: string): StoredMessage | null {
  const buf = file(loc.segment);
  if (!buf || loc.offset + RECORD_HEADER > buf.length || buf.readUInt16BE(loc.offset) !== RECORD_MAGIC) return null;
  const end = loc.offset + RECORD_HEADER + buf.readUInt32LE(loc.offset + 2);
  if (end > buf.length || (verify && recordLengthAt(buf, loc.offset) < 0)) return null;
  const type = buf[loc.offset + 6];
  const payload = buf.subarray(loc.offset + RECORD_HEADER, end);
  try {
    if (type === RecordType.Add && loc.op < 0) return readAddedMessage(payload, id);
    const d = decodeRecord(type, payload);
    const op = d.type === 'transaction' ? d.ops[loc.op] : d.type === 'op' ? d.op : undefined;
    return op?.op === 'add' ? op.message : null;
  } catch {
    return null;
  }
}

/**
 * Drops checkpoint entries whose segment no longer exists. GC deletes a
 * segment only when nothing in it is live, so such entries were acked after
 * the checkpoint (a moved subscription or destination record comes back in
 * the replay).
 */
function dropMissing(index: LiveIndex, present: Set<number>, logger: Logger): void {
  let dropped = 0;
  const gone = (l: Location) => !present.has(l.segment) && ++dropped > 0;
  for (const [dest, q] of index.queues) for (const [id, packed] of q) if (gone(index.queueEntry(dest, id, packed).loc)) q.delete(id);
  for (const [k, e] of index.topicMessages) if (gone(e.loc)) index.topicMessages.delete(k);
  for (const [id, e] of index.subscriptions) if (gone(e.loc)) index.subscriptions.delete(id);
  for (const [d, l] of index.destinations) if (gone(l)) index.destinations.delete(d);
  for (const s of [...index.segments.keys()]) if (!present.has(s)) index.forget(s);
  if (dropped > 0) logger.debug({ dropped }, 'Checkpoint entries in journal files collected since the checkpoint were dropped');
}

/**
 * The recovered state, read lazily: each pending message is decoded from its
 * segment as the broker iterates, so it is garbage as soon as the broker has
 * made its own message of it.
 */
function buildState(index: LiveIndex, read: (loc: Location, id: string) => StoredMessage | null, logger: Logger): RecoveredState {
  const withMarks = (m: StoredMessage, dispatched: boolean, to = ''): StoredMessage =>
    dispatched ? { ...m, redeliveryCounter: m.redeliveryCounter + 1, dispatchedTo: to || undefined } : m;
  const dropped = (dest: string, id: string, loc: Location) =>
    logger.warn({ destination: dest, messageId: id }, `[${dest}] dropped: ${id} at corrupt location: ${segmentName(loc.segment)}:${loc.offset}`);
  function* queueMessages(dest: string, q: Map<string, PackedLocation>): Iterable<StoredMessage> {
    for (const [id, packed] of q) {
      const e = index.queueEntry(dest, id, packed);
      const m = read(e.loc, id);
      if (m) {
        yield withMarks(m, e.dispatched, e.dispatchedTo);
        continue;
      }
      dropped(dest, id, e.loc);
      index.apply({ op: 'remove', destination: dest, messageId: id }, e.loc);
    }
  }
  function* subscriptionMessages(subscription: string): Iterable<{ destination: string; message: StoredMessage }> {
    for (const e of [...index.topicMessages.values()]) {
      if (!e.subscriptions.has(subscription)) continue;
      const m = read(e.loc, e.messageId);
      if (m) {
        yield { destination: e.destination, message: withMarks(m, e.dispatched.has(subscription)) };
        continue;
      }
      dropped(e.destination, e.messageId, e.loc);
      index.apply({ op: 'remove', destination: e.destination, messageId: e.messageId, subscription }, e.loc);
    }
  }
  const queues = new Map<string, Iterable<StoredMessage>>();
  for (const [dest, q] of index.queues) if (q.size > 0) queues.set(dest, queueMessages(dest, q));
  return {
    destinations: [...new Set([...index.destinations.keys(), ...queues.keys()])],
    queues,
    subscriptions: [...index.subscriptions.values()].map((s) => ({ record: s.record, pending: subscriptionMessages(s.record.id) })),
    duplicateIds: index.duplicates.toMap(),
    operations: 0,
    seconds: 0,
  };
}

/**
 * Opening a journal: load the checkpoint if there is a sound one, replay the
 * records after it (all of them without it), cut off a damaged tail, skip
 * damaged stretches, ignore what a fenced master wrote after a new master took
 * over, and rebuild the index: destinations, durable subscriptions, and the
 * positions of pending messages. No message is read: destinations page their
 * backlog in from the journal when they need it, so a start-up costs the
 * checkpoint and the journal written since, whatever the backlog.
 */
import { closeSync, openSync, readSync, truncateSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../config/logger.js';
import { readCheckpoint } from './checkpoint.js';
import { isQueueHolder, subscriptionHolder } from './holders.js';
import { LiveIndex, type Location } from './live-index.js';
import { decodeRecord, type EpochMark, peekAdd, RECORD_HEADER, RecordType } from './records.js';
import { listSegments, readSegmentHeader, recordLengthAt, scanSegment, SEGMENT_HEADER, segmentName } from './segment.js';
import type { RecoveredState } from './types.js';

export interface JournalRecovery {
  index: LiveIndex;
  state: RecoveredState;
  /** Highest epoch found (segment headers, epoch records, checkpoint). */
  epoch: number;
  /** Last segment and where its valid records end (0, 0 when the journal is empty). */
  lastSegment: number;
  lastEnd: number;
}

interface SegmentStart {
  epoch: number;
  format: number;
  mark: EpochMark | null;
}

/** The epoch and format written in a segment's header, and its first record if that is an epoch mark. */
function readSegmentStart(path: string): SegmentStart {
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
    return { epoch: header?.epoch ?? 0, format: header?.format ?? 0, mark };
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
  const starts = new Map(segments.map((s) => [s, readSegmentStart(join(directory, segmentName(s)))]));

  let epoch = 0;
  const fences = new Map<number, number>();
  for (const start of starts.values()) {
    epoch = Math.max(epoch, start.epoch);
    if (!start.mark) continue;
    epoch = Math.max(epoch, start.mark.epoch);
    const prev = fences.get(start.mark.fencedSegment);
    fences.set(start.mark.fencedSegment, prev === undefined ? start.mark.fencedEnd : Math.min(prev, start.mark.fencedEnd));
  }

  const cp = readCheckpoint(directory);
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
  // Segments of the first journal format name removed messages by id only: replaying them needs ids.
  if ([...starts].some(([s, start]) => s >= from.segment && start.format === 1)) index.legacyIds ??= new Map();
  if (segments.length > 0) logger.info({ segment: from.segment, offset: from.offset }, `Recovering from the journal @${segmentName(from.segment)}:${from.offset}`);
  else logger.info({ directory }, `Creating a new journal in ${directory}`);

  let operations = 0;
  let lastEnd = 0;
  const lastSegment = segments.length > 0 ? segments[segments.length - 1] : 0;
  for (const s of segments) {
    if (s < from.segment) continue;
    const name = segmentName(s);
    // One segment in memory at a time (journalMaxFileLength, 32 MiB by default).
    const buf = await readFile(join(directory, name));
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
      if (tailDamage >= 0 && fence === undefined) truncateSync(join(directory, name), validEnd);
    }
  }
  index.legacyIds = null;
  if (options.checkForCorruptJournalFiles) await verifyUnreplayed(directory, index, from.segment, logger);
  return { index, state: stateOf(index, operations, (performance.now() - t0) / 1000), epoch, lastSegment, lastEnd };
}

function applyRecord(index: LiveIndex, type: number, payload: Buffer, loc: Location): void {
  if (type === RecordType.Add) {
    // The message itself stays where it is: it is read when its destination pages it in.
    const a = peekAdd(payload);
    index.add(a.destination, a.messageId, a.subscriptions, a.duplicateId, loc);
    return;
  }
  const d = decodeRecord(type, payload);
  if (d.type === 'op') index.apply(d.op, loc);
  else if (d.type === 'transaction') d.ops.forEach((op, i) => index.apply(op, { ...loc, op: i }));
  else index.applyEpoch(d.mark, loc);
}

/**
 * KahaDB's checkForCorruptJournalFiles for what the replay did not verify:
 * every pending message the checkpoint points to is checksummed, and one
 * that fails is dropped with ActiveMQ's line.
 */
async function verifyUnreplayed(directory: string, index: LiveIndex, replayedFrom: number, logger: Logger): Promise<void> {
  const bySegment = new Map<number, Array<{ holder: string; position: number }>>();
  for (const [holder, positions] of index.holders) {
    for (const position of positions) {
      const segment = index.recordOf(position).segment;
      if (segment >= replayedFrom) continue;
      let list = bySegment.get(segment);
      if (!list) bySegment.set(segment, (list = []));
      list.push({ holder, position });
    }
  }
  for (const [segment, entries] of bySegment) {
    const buf = await readFile(join(directory, segmentName(segment)));
    for (const { holder, position } of entries) {
      const at = index.recordOf(position);
      if (recordLengthAt(buf, at.offset) > 0) continue;
      logger.warn({ destination: holder, position }, `[${holder}] dropped: message at corrupt location: ${segmentName(segment)}:${at.offset}`);
      index.dropFrom(holder, position, at);
    }
  }
}

/**
 * Drops checkpoint entries whose segment no longer exists. GC deletes a
 * segment only when nothing in it is live, so such entries were acked after
 * the checkpoint (a moved subscription or destination record comes back in
 * the replay).
 */
function dropMissing(index: LiveIndex, present: Set<number>, logger: Logger): void {
  // Usually every segment the checkpoint knows is still there: then there is nothing to drop, and no need to visit a million positions.
  const known = [...index.segments.keys(), ...[...index.subscriptions.values()].map((e) => e.loc.segment), ...[...index.destinations.values()].map((l) => l.segment)];
  if (known.every((s) => present.has(s))) return;
  let dropped = 0;
  for (const [holder, positions] of [...index.holders]) {
    for (const position of [...positions]) {
      const at = index.recordOf(position);
      if (present.has(at.segment)) continue;
      index.dropFrom(holder, position, at);
      dropped++;
    }
  }
  for (const [id, e] of index.subscriptions) if (!present.has(e.loc.segment) && ++dropped) index.subscriptions.delete(id);
  for (const [d, l] of index.destinations) if (!present.has(l.segment) && ++dropped) index.destinations.delete(d);
  for (const s of [...index.segments.keys()]) if (!present.has(s)) index.forget(s);
  if (dropped > 0) logger.debug({ dropped }, 'Checkpoint entries in journal files collected since the checkpoint were dropped');
}

function stateOf(index: LiveIndex, operations: number, seconds: number): RecoveredState {
  const queues = new Map<string, number>();
  for (const [holder, positions] of index.holders) if (isQueueHolder(holder)) queues.set(holder, positions.size);
  return {
    destinations: [...new Set([...index.destinations.keys(), ...queues.keys()])],
    queues,
    subscriptions: [...index.subscriptions.values()].map((s) => ({ record: s.record, pending: index.holders.get(subscriptionHolder(s.record.id))?.size ?? 0 })),
    duplicateIds: index.duplicates.toMap(),
    operations,
    seconds,
  };
}

/**
 * What is live in the journal, and where: every pending message, durable
 * subscription and destination, with the segment holding its record. It is
 * the store's index (checkpointed as `db.data`) and the basis of GC.
 *
 * GC rule (KahaDB's): a segment is kept while it holds a live record, or a
 * record that refers to a record in a segment that is still kept (an ack,
 * removal or dispatch mark for it). Deleting such a segment would bring the
 * acked message back on a full replay.
 */
import { BinaryReader, BinaryWriter } from './binary.js';
import type { EpochMark } from './records.js';
import { DuplicateWindows } from './duplicate-windows.js';
import type { DurableSubscriptionRecord, StoreOp } from './types.js';

export interface Location {
  segment: number;
  offset: number;
  /** Index within a transaction record; -1 for a record of its own. */
  op: number;
}

export interface SegmentStats {
  /** Live records in the segment. */
  live: number;
  /** Of those, destination and subscription records (which can be rewritten forward). */
  meta: number;
  /** Segments holding records that records of this segment refer to. */
  targets: Set<number>;
}

/**
 * A queue message's record as one number (segment × 2^32 + offset): there may
 * be millions of them, and a number costs the heap nothing.
 */
export type PackedLocation = number;

const SEGMENT_UNIT = 4294967296;

function packLocation(loc: Location): PackedLocation {
  return loc.segment * SEGMENT_UNIT + loc.offset;
}

function packedSegment(p: PackedLocation): number {
  return Math.floor(p / SEGMENT_UNIT);
}

export interface TopicEntry {
  destination: string;
  messageId: string;
  loc: Location;
  subscriptions: Set<string>;
  dispatched: Set<string>;
}

export class LiveIndex {
  readonly segments = new Map<number, SegmentStats>();
  readonly destinations = new Map<string, Location>();
  readonly queues = new Map<string, Map<string, PackedLocation>>();
  /** Queue messages added inside a transaction record: their index in it (by `topicKey`). Few. */
  readonly queueTxOps = new Map<string, number>();
  /** Queue messages marked dispatched (by `topicKey`), with the network broker they went to ('' for a local consumer). Few: at most what consumers hold unacknowledged. */
  readonly queueDispatched = new Map<string, string>();
  readonly topicMessages = new Map<string, TopicEntry>();
  readonly subscriptions = new Map<string, { record: DurableSubscriptionRecord; loc: Location }>();
  /** Recent duplicate-detection ids per destination: kept in the checkpoint, not in segment liveness. */
  readonly duplicates = new DuplicateWindows();

  stats(segment: number): SegmentStats {
    let s = this.segments.get(segment);
    if (!s) this.segments.set(segment, (s = { live: 0, meta: 0, targets: new Set() }));
    return s;
  }

  private gain(loc: Location, meta = false): void {
    const s = this.stats(loc.segment);
    s.live++;
    if (meta) s.meta++;
  }

  private lose(loc: Location, meta = false): void {
    this.loseIn(loc.segment, meta);
  }

  private loseIn(segment: number, meta = false): void {
    const s = this.stats(segment);
    s.live--;
    if (meta) s.meta--;
  }

  private refer(from: Location, to: Location): void {
    this.referTo(from, to.segment);
  }

  private referTo(from: Location, segment: number): void {
    if (from.segment !== segment) this.stats(from.segment).targets.add(segment);
  }

  /** Where a pending queue message's record is, and whether it was dispatched. */
  queueEntry(destination: string, messageId: string, packed: PackedLocation): { loc: Location; dispatched: boolean; dispatchedTo: string } {
    const key = this.queueTxOps.size > 0 || this.queueDispatched.size > 0 ? topicKey(destination, messageId) : '';
    const segment = packedSegment(packed);
    return {
      loc: { segment, offset: packed - segment * SEGMENT_UNIT, op: this.queueTxOps.get(key) ?? -1 },
      dispatched: this.queueDispatched.has(key),
      dispatchedTo: this.queueDispatched.get(key) ?? '',
    };
  }

  private forgetQueueEntry(destination: string, messageId: string): void {
    if (this.queueTxOps.size === 0 && this.queueDispatched.size === 0) return;
    const key = topicKey(destination, messageId);
    this.queueTxOps.delete(key);
    this.queueDispatched.delete(key);
  }

  applyEpoch(mark: EpochMark, loc: Location): void {
    if (mark.fencedSegment !== loc.segment) this.stats(loc.segment).targets.add(mark.fencedSegment);
  }

  /** A message was added (to a queue, or to a topic for the named durable subscriptions). A second add of an id is ignored. */
  add(destination: string, messageId: string, subscriptions: readonly string[] | undefined, loc: Location): void {
    if (subscriptions) {
      const key = topicKey(destination, messageId);
      if (this.topicMessages.has(key) || subscriptions.length === 0) return;
      this.topicMessages.set(key, { destination, messageId, loc, subscriptions: new Set(subscriptions), dispatched: new Set() });
      this.gain(loc);
      return;
    }
    let q = this.queues.get(destination);
    if (!q) this.queues.set(destination, (q = new Map()));
    if (q.has(messageId)) return;
    q.set(messageId, packLocation(loc));
    if (loc.op >= 0) this.queueTxOps.set(topicKey(destination, messageId), loc.op);
    this.gain(loc);
  }

  apply(op: StoreOp, loc: Location): void {
    switch (op.op) {
      case 'add':
        this.add(op.destination, op.message.id, op.subscriptions, loc);
        if (op.duplicateId !== undefined) this.duplicates.remember(op.destination, op.duplicateId);
        return;
      case 'remove': {
        if (op.subscription !== undefined) {
          const key = topicKey(op.destination, op.messageId);
          const e = this.topicMessages.get(key);
          if (!e || !e.subscriptions.delete(op.subscription)) return;
          e.dispatched.delete(op.subscription);
          this.refer(loc, e.loc);
          if (e.subscriptions.size === 0) {
            this.topicMessages.delete(key);
            this.lose(e.loc);
          }
          return;
        }
        const q = this.queues.get(op.destination);
        const packed = q?.get(op.messageId);
        if (!q || packed === undefined) return;
        q.delete(op.messageId);
        this.forgetQueueEntry(op.destination, op.messageId);
        this.loseIn(packedSegment(packed));
        this.referTo(loc, packedSegment(packed));
        return;
      }
      case 'dispatched': {
        if (op.subscription !== undefined) {
          const e = this.topicMessages.get(topicKey(op.destination, op.messageId));
          if (!e || !e.subscriptions.has(op.subscription)) return;
          e.dispatched.add(op.subscription);
          this.refer(loc, e.loc);
          return;
        }
        const packed = this.queues.get(op.destination)?.get(op.messageId);
        if (packed === undefined) return;
        this.queueDispatched.set(topicKey(op.destination, op.messageId), op.consumer ?? '');
        this.referTo(loc, packedSegment(packed));
        return;
      }
      case 'add-subscription': {
        const existing = this.subscriptions.get(op.subscription.id);
        if (existing) this.lose(existing.loc, true);
        this.subscriptions.set(op.subscription.id, { record: op.subscription, loc });
        this.gain(loc, true);
        return;
      }
      case 'remove-subscription': {
        const e = this.subscriptions.get(op.id);
        if (!e) return;
        this.subscriptions.delete(op.id);
        this.lose(e.loc, true);
        this.refer(loc, e.loc);
        for (const [key, m] of this.topicMessages) {
          if (!m.subscriptions.delete(op.id)) continue;
          m.dispatched.delete(op.id);
          this.refer(loc, m.loc);
          if (m.subscriptions.size === 0) {
            this.topicMessages.delete(key);
            this.lose(m.loc);
          }
        }
        return;
      }
      case 'add-destination': {
        const existing = this.destinations.get(op.destination);
        if (existing) this.lose(existing, true);
        this.destinations.set(op.destination, loc);
        this.gain(loc, true);
        return;
      }
      case 'remove-destination': {
        this.duplicates.forget(op.destination);
        const existing = this.destinations.get(op.destination);
        if (existing) {
          this.destinations.delete(op.destination);
          this.lose(existing, true);
          this.refer(loc, existing);
        }
        const q = this.queues.get(op.destination);
        if (q) {
          for (const [id, packed] of q) {
            this.forgetQueueEntry(op.destination, id);
            this.loseIn(packedSegment(packed));
            this.referTo(loc, packedSegment(packed));
          }
          this.queues.delete(op.destination);
        }
        return;
      }
    }
  }

  /**
   * Segments that can be deleted, oldest first: below `current`, nothing
   * live, and every segment they refer to deleted too.
   */
  collectable(existing: readonly number[], current: number): number[] {
    const present = new Set(existing);
    const gone = new Set<number>();
    for (const s of existing) {
      if (s >= current) break;
      const st = this.segments.get(s);
      if (st && st.live > 0) continue;
      if (st && [...st.targets].some((t) => present.has(t) && !gone.has(t))) continue;
      gone.add(s);
    }
    return [...gone];
  }

  forget(segment: number): void {
    this.segments.delete(segment);
    for (const st of this.segments.values()) st.targets.delete(segment);
  }

  /** Old segments whose only live records are destination and subscription records. */
  metadataOnly(existing: readonly number[], current: number): number[] {
    return existing.filter((s) => {
      const st = this.segments.get(s);
      return s < current && st !== undefined && st.live > 0 && st.live === st.meta;
    });
  }

  // ---- checkpoint (db.data) encoding ----

  encode(w: BinaryWriter): void {
    const loc = (l: Location) => {
      w.u32(l.segment);
      w.f64(l.offset);
      w.u32(l.op + 1);
    };
    w.u32(this.destinations.size);
    for (const [d, l] of this.destinations) {
      w.str(d);
      loc(l);
    }
    w.u32(this.subscriptions.size);
    for (const { record: r, loc: l } of this.subscriptions.values()) {
      w.str(JSON.stringify(r));
      loc(l);
    }
    w.u32(this.queues.size);
    for (const [d, q] of this.queues) {
      w.str(d);
      w.u32(q.size);
      for (const [id, packed] of q) {
        w.str(id);
        w.f64(packed);
      }
    }
    w.u32(this.queueTxOps.size);
    for (const [key, op] of this.queueTxOps) {
      w.str(key);
      w.u32(op);
    }
    w.u32(this.queueDispatched.size);
    for (const [key, to] of this.queueDispatched) {
      w.str(key);
      w.str(to);
    }
    w.u32(this.topicMessages.size);
    for (const e of this.topicMessages.values()) {
      w.str(e.destination);
      w.str(e.messageId);
      loc(e.loc);
      w.u32(e.subscriptions.size);
      for (const s of e.subscriptions) {
        w.str(s);
        w.u8(e.dispatched.has(s) ? 1 : 0);
      }
    }
    w.u32(this.segments.size);
    for (const [id, st] of this.segments) {
      w.u32(id);
      w.u32(st.live);
      w.u32(st.meta);
      w.u32(st.targets.size);
      for (const t of st.targets) w.u32(t);
    }
    const windows = this.duplicates.toMap();
    w.u32(windows.size);
    for (const [d, ids] of windows) {
      w.str(d);
      w.u32(ids.length);
      for (const id of ids) w.str(id);
    }
  }

  /** `format` 1 checkpoints have no duplicate-detection ids. */
  static decode(r: BinaryReader, format: number): LiveIndex {
    const index = new LiveIndex();
    const loc = (): Location => ({ segment: r.u32(), offset: r.f64(), op: r.u32() - 1 });
    for (let n = r.u32(); n > 0; n--) {
      const d = r.str();
      index.destinations.set(d, loc());
    }
    for (let n = r.u32(); n > 0; n--) {
      const record = JSON.parse(r.str()) as DurableSubscriptionRecord;
      index.subscriptions.set(record.id, { record, loc: loc() });
    }
    for (let n = r.u32(); n > 0; n--) {
      const d = r.str();
      const q = new Map<string, PackedLocation>();
      for (let m = r.u32(); m > 0; m--) {
        const id = r.str();
        q.set(id, r.f64());
      }
      index.queues.set(d, q);
    }
    for (let n = r.u32(); n > 0; n--) {
      const key = r.str();
      index.queueTxOps.set(key, r.u32());
    }
    for (let n = r.u32(); n > 0; n--) {
      const key = r.str();
      index.queueDispatched.set(key, r.str());
    }
    for (let n = r.u32(); n > 0; n--) {
      const destination = r.str();
      const messageId = r.str();
      const l = loc();
      const subscriptions = new Set<string>();
      const dispatched = new Set<string>();
      for (let m = r.u32(); m > 0; m--) {
        const s = r.str();
        subscriptions.add(s);
        if (r.u8() === 1) dispatched.add(s);
      }
      index.topicMessages.set(topicKey(destination, messageId), { destination, messageId, loc: l, subscriptions, dispatched });
    }
    for (let n = r.u32(); n > 0; n--) {
      const id = r.u32();
      const live = r.u32();
      const meta = r.u32();
      const targets = new Set<number>();
      for (let m = r.u32(); m > 0; m--) targets.add(r.u32());
      index.segments.set(id, { live, meta, targets });
    }
    if (format >= 2) {
      for (let n = r.u32(); n > 0; n--) {
        const d = r.str();
        for (let m = r.u32(); m > 0; m--) index.duplicates.remember(d, r.str());
      }
    }
    return index;
  }
}

export function topicKey(destination: string, messageId: string): string {
  return `${destination}\u0000${messageId}`;
}

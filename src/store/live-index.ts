/**
 * What is live in the journal, and where: every pending message (as its
 * position, 8 bytes), durable subscription and destination, with the segment
 * holding its record. It is the store's index (checkpointed as `db.data`),
 * the list a destination pages its backlog in from, and the basis of GC.
 *
 * A message's position is its Add record's location packed into one number
 * (segment × 2^32 + offset); for an Add inside a transaction record, the
 * record's location plus the op's index, which is unique too since each op
 * takes more than one byte of the record.
 *
 * GC rule (KahaDB's): a segment is kept while it holds a live record, or a
 * record that refers to a record in a segment that is still kept (an ack,
 * removal or dispatch mark for it). Deleting such a segment would bring the
 * acked message back on a full replay.
 */
import { BinaryReader, BinaryWriter } from '../util/binary.js';
import { DuplicateWindows } from './duplicate-windows.js';
import { subscriptionHolder, subscriptionOf } from './holders.js';
import { PositionSet } from './position-set.js';
import type { EpochMark } from './records.js';
import type { DurableSubscriptionRecord, StoreOp } from './types.js';

export interface Location {
  segment: number;
  offset: number;
  /** Index within a transaction record; -1 for a record of its own. */
  op: number;
}

export interface SegmentStats {
  /** Live records (and message references) in the segment. */
  live: number;
  /** Of those, destination and subscription records (which can be rewritten forward). */
  meta: number;
  /** Segments holding records that records of this segment refer to. */
  targets: Set<number>;
}

const SEGMENT_UNIT = 4294967296;

/** The position of the message an Add at `loc` carries. */
export function positionOf(loc: Location): number {
  return loc.segment * SEGMENT_UNIT + loc.offset + Math.max(0, loc.op);
}

export function segmentOf(position: number): number {
  return Math.floor(position / SEGMENT_UNIT);
}

export class LiveIndex {
  readonly segments = new Map<number, SegmentStats>();
  readonly destinations = new Map<string, Location>();
  readonly subscriptions = new Map<string, { record: DurableSubscriptionRecord; loc: Location }>();
  /** Pending message positions per queue (its destination key) and per durable subscription (subscriptionHolder). */
  readonly holders = new Map<string, PositionSet>();
  /** Positions of Adds inside transaction records: their op index, and how many holders still have them. */
  readonly txOps = new Map<number, { op: number; refs: number }>();
  /** Messages handed to a consumer and not acknowledged (`holder position` → the network broker, '' for a local consumer). Few: what consumers hold. */
  readonly dispatched = new Map<string, string>();
  /** Recent duplicate-detection ids per destination: kept in the checkpoint, not in segment liveness. */
  readonly duplicates = new DuplicateWindows();
  /**
   * Only while recovering a journal written before removes named positions:
   * `holder message-id` → position. Null otherwise.
   */
  legacyIds: Map<string, number> | null = null;

  stats(segment: number): SegmentStats {
    let s = this.segments.get(segment);
    if (!s) this.segments.set(segment, (s = { live: 0, meta: 0, targets: new Set() }));
    return s;
  }

  private gainIn(segment: number, meta = false): void {
    const s = this.stats(segment);
    s.live++;
    if (meta) s.meta++;
  }

  private loseIn(segment: number, meta = false): void {
    const s = this.stats(segment);
    s.live--;
    if (meta) s.meta--;
  }

  private referTo(from: Location, segment: number): void {
    if (from.segment !== segment) this.stats(from.segment).targets.add(segment);
  }

  holder(key: string): PositionSet {
    let h = this.holders.get(key);
    if (!h) this.holders.set(key, (h = new PositionSet()));
    return h;
  }

  applyEpoch(mark: EpochMark, loc: Location): void {
    if (mark.fencedSegment !== loc.segment) this.stats(loc.segment).targets.add(mark.fencedSegment);
  }

  /** A message was added (to a queue, or to a topic for the named durable subscriptions). */
  add(destination: string, messageId: string, subscriptions: readonly string[] | undefined, duplicateId: string | undefined, loc: Location): void {
    const position = positionOf(loc);
    if (duplicateId !== undefined) this.duplicates.remember(destination, duplicateId);
    const keys = subscriptions ? subscriptions.map(subscriptionHolder) : [destination];
    for (const key of keys) {
      if (!this.holder(key).add(position)) continue;
      this.gainIn(loc.segment);
      if (loc.op >= 0) {
        const tx = this.txOps.get(position);
        if (tx) tx.refs++;
        else this.txOps.set(position, { op: loc.op, refs: 1 });
      }
      this.legacyIds?.set(`${key} ${messageId}`, position);
    }
  }

  /** The position a remove or dispatch mark names: its own, or (older journals) the one its message id had. */
  private positionFor(key: string, messageId: string, position: number | undefined): number | undefined {
    return position ?? this.legacyIds?.get(`${key} ${messageId}`);
  }

  /** A message leaves a holder (acknowledged, expired, moved): true when it was there. */
  private drop(key: string, position: number): boolean {
    const h = this.holders.get(key);
    if (!h || !h.delete(position)) return false;
    this.released(key, position);
    if (h.size === 0) this.holders.delete(key);
    return true;
  }

  /** Bookkeeping once a holder no longer has the message at `position`. */
  private released(key: string, position: number): void {
    this.loseIn(segmentOf(position));
    this.dispatched.delete(`${key} ${position}`);
    const tx = this.txOps.get(position);
    if (tx && --tx.refs <= 0) this.txOps.delete(position);
  }

  private dropAll(key: string, loc: Location): void {
    const h = this.holders.get(key);
    if (!h) return;
    for (const position of h) {
      this.released(key, position);
      this.referTo(loc, segmentOf(position));
    }
    this.holders.delete(key);
  }

  /** Drops a holder's messages with positions after `after`, up to `upTo` (a purge). */
  private dropRange(key: string, after: number, upTo: number, loc: Location): void {
    const h = this.holders.get(key);
    if (!h) return;
    for (const position of h.after(after, Infinity)) {
      if (position > upTo) break;
      if (this.drop(key, position)) this.referTo(loc, segmentOf(position));
    }
  }

  /** Drops the message at `position` from a holder (damage found, or its segment gone); `at` is where that happened. */
  dropFrom(holder: string, position: number, at: Location): void {
    const subscription = subscriptionOf(holder);
    this.apply(subscription !== undefined ? { op: 'remove', destination: holder, messageId: '', subscription, position } : { op: 'remove', destination: holder, messageId: '', position }, at);
  }

  apply(op: StoreOp, loc: Location): void {
    switch (op.op) {
      case 'add':
        this.add(op.destination, op.message.id, op.subscriptions, op.duplicateId, loc);
        return;
      case 'remove': {
        const key = op.subscription !== undefined ? subscriptionHolder(op.subscription) : op.destination;
        const position = this.positionFor(key, op.messageId, op.position);
        if (position !== undefined && this.drop(key, position)) this.referTo(loc, segmentOf(position));
        return;
      }
      case 'dispatched': {
        const key = op.subscription !== undefined ? subscriptionHolder(op.subscription) : op.destination;
        const position = this.positionFor(key, op.messageId, op.position);
        if (position === undefined || !this.holders.get(key)?.has(position)) return;
        this.dispatched.set(`${key} ${position}`, op.consumer ?? '');
        this.referTo(loc, segmentOf(position));
        return;
      }
      case 'purge':
        this.dropRange(op.destination, op.after, op.upTo, loc);
        return;
      case 'add-subscription': {
        const existing = this.subscriptions.get(op.subscription.id);
        if (existing) this.loseIn(existing.loc.segment, true);
        this.subscriptions.set(op.subscription.id, { record: op.subscription, loc });
        this.gainIn(loc.segment, true);
        return;
      }
      case 'remove-subscription': {
        const e = this.subscriptions.get(op.id);
        if (!e) return;
        this.subscriptions.delete(op.id);
        this.loseIn(e.loc.segment, true);
        this.referTo(loc, e.loc.segment);
        this.dropAll(subscriptionHolder(op.id), loc);
        return;
      }
      case 'add-destination': {
        const existing = this.destinations.get(op.destination);
        if (existing) this.loseIn(existing.segment, true);
        this.destinations.set(op.destination, loc);
        this.gainIn(loc.segment, true);
        return;
      }
      case 'remove-destination': {
        this.duplicates.forget(op.destination);
        const existing = this.destinations.get(op.destination);
        if (existing) {
          this.destinations.delete(op.destination);
          this.loseIn(existing.segment, true);
          this.referTo(loc, existing.segment);
        }
        this.dropAll(op.destination, loc);
        return;
      }
    }
  }

  /** Where the record of the message at `position` starts, and its op within a transaction (-1 for none). */
  recordOf(position: number): Location {
    const op = this.txOps.get(position)?.op ?? -1;
    const start = position - Math.max(0, op);
    const segment = segmentOf(start);
    return { segment, offset: start - segment * SEGMENT_UNIT, op };
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
    w.u32(this.holders.size);
    for (const [key, positions] of this.holders) {
      w.str(key);
      w.u32(positions.size);
      w.ensure(positions.size * 8);
      for (const p of positions) w.f64(p);
    }
    w.u32(this.txOps.size);
    for (const [p, tx] of this.txOps) {
      w.f64(p);
      w.u32(tx.op);
      w.u32(tx.refs);
    }
    w.u32(this.dispatched.size);
    for (const [key, to] of this.dispatched) {
      w.str(key);
      w.str(to);
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

  static decode(r: BinaryReader): LiveIndex {
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
      const key = r.str();
      const h = index.holder(key);
      for (let m = r.u32(); m > 0; m--) h.add(r.f64());
    }
    for (let n = r.u32(); n > 0; n--) {
      const p = r.f64();
      index.txOps.set(p, { op: r.u32(), refs: r.u32() });
    }
    for (let n = r.u32(); n > 0; n--) {
      const key = r.str();
      index.dispatched.set(key, r.str());
    }
    for (let n = r.u32(); n > 0; n--) {
      const id = r.u32();
      const live = r.u32();
      const meta = r.u32();
      const targets = new Set<number>();
      for (let m = r.u32(); m > 0; m--) targets.add(r.u32());
      index.segments.set(id, { live, meta, targets });
    }
    for (let n = r.u32(); n > 0; n--) {
      const d = r.str();
      for (let m = r.u32(); m > 0; m--) index.duplicates.remember(d, r.str());
    }
    return index;
  }
}

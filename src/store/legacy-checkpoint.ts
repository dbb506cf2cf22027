/**
 * Checkpoints (`db.data`) written by amq-sim before the index held positions
 * (formats 1 and 2: pending messages keyed by message id). Read once, into
 * today's index, with the message ids kept for the replay that follows (the
 * journal after such a checkpoint names removed messages by id).
 */
import type { BinaryReader } from '../util/binary.js';
import { LiveIndex, type Location } from './live-index.js';
import type { DurableSubscriptionRecord } from './types.js';

const SEGMENT_UNIT = 4294967296;

export function decodeLegacyIndex(r: BinaryReader, format: number): LiveIndex {
  const index = new LiveIndex();
  index.legacyIds = new Map();
  const loc = (): Location => ({ segment: r.u32(), offset: r.f64(), op: r.u32() - 1 });
  const destinations: Array<[string, Location]> = [];
  for (let n = r.u32(); n > 0; n--) destinations.push([r.str(), loc()]);
  const subscriptions: Array<[DurableSubscriptionRecord, Location]> = [];
  for (let n = r.u32(); n > 0; n--) subscriptions.push([JSON.parse(r.str()) as DurableSubscriptionRecord, loc()]);
  const queued: Array<{ destination: string; id: string; packed: number }> = [];
  for (let n = r.u32(); n > 0; n--) {
    const destination = r.str();
    for (let m = r.u32(); m > 0; m--) queued.push({ destination, id: r.str(), packed: r.f64() });
  }
  const txOps = new Map<string, number>();
  for (let n = r.u32(); n > 0; n--) txOps.set(r.str(), r.u32());
  const dispatched = new Map<string, string>();
  for (let n = r.u32(); n > 0; n--) dispatched.set(r.str(), r.str());
  for (const q of queued) {
    const key = `${q.destination}\u0000${q.id}`;
    const segment = Math.floor(q.packed / SEGMENT_UNIT);
    const at: Location = { segment, offset: q.packed - segment * SEGMENT_UNIT, op: txOps.get(key) ?? -1 };
    index.add(q.destination, q.id, undefined, undefined, at);
    const to = dispatched.get(key);
    if (to !== undefined) index.apply({ op: 'dispatched', destination: q.destination, messageId: q.id, consumer: to || undefined }, at);
  }
  for (let n = r.u32(); n > 0; n--) {
    const destination = r.str();
    const messageId = r.str();
    const at = loc();
    const subs: Array<[string, boolean]> = [];
    for (let m = r.u32(); m > 0; m--) subs.push([r.str(), r.u8() === 1]);
    index.add(destination, messageId, subs.map(([s]) => s), undefined, at);
    for (const [subscription, wasDispatched] of subs) if (wasDispatched) index.apply({ op: 'dispatched', destination, messageId, subscription }, at);
  }
  for (const [destination, at] of destinations) index.apply({ op: 'add-destination', destination }, at);
  for (const [subscription, at] of subscriptions) index.apply({ op: 'add-subscription', subscription }, at);
  for (let n = r.u32(); n > 0; n--) {
    const st = index.stats(r.u32());
    r.u32();
    r.u32();
    for (let m = r.u32(); m > 0; m--) st.targets.add(r.u32());
  }
  if (format >= 2) {
    for (let n = r.u32(); n > 0; n--) {
      const d = r.str();
      for (let m = r.u32(); m > 0; m--) index.duplicates.remember(d, r.str());
    }
  }
  return index;
}

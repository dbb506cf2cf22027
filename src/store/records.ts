/**
 * Journal record encoding. A record is
 *
 *   magic 0xA5 0x5A | payload length u32 | type u8 | crc32(type + payload) u32 | payload
 *
 * (little-endian). The magic lets recovery find the next record after a
 * damaged one; the checksum tells a whole record from a torn or corrupt one.
 */
import { crc32 } from 'node:zlib';
import { storeError } from '../errors.js';
import { BinaryReader, BinaryWriter } from '../util/binary.js';
import type { DurableSubscriptionRecord, StoredMessage, StoreOp } from './types.js';

/** A record or snapshot that ends before its fields do. */
export const truncatedRecord = (pos: number, n: number) => storeError('STORE_CORRUPT_RECORD', `record truncated at ${pos} (needs ${n} more bytes)`);

export const RECORD_MAGIC = 0xa55a;

/** Flags of an Add record: it names durable subscriptions; it carries a duplicate-detection id. */
const ADD_FOR_SUBSCRIPTIONS = 1;
const ADD_WITH_DUPLICATE_ID = 2;
/** A non-persistent message (only the temp store keeps those). */
const ADD_NON_PERSISTENT = 4;
export const RECORD_HEADER = 11;

export const RecordType = {
  Add: 1,
  Remove: 2,
  Dispatched: 3,
  Transaction: 4,
  SubscriptionAdd: 5,
  SubscriptionRemove: 6,
  DestinationAdd: 7,
  DestinationRemove: 8,
  /** A new master took over: it declares where the previous master's segment ended. */
  Epoch: 9,
  /** Every pending message of a queue was dropped. */
  Purge: 10,
} as const;

export interface EpochMark {
  epoch: number;
  fencedSegment: number;
  fencedEnd: number;
}

export type DecodedRecord =
  | { type: 'op'; op: StoreOp }
  | { type: 'transaction'; transactionId: string; ops: StoreOp[] }
  | { type: 'epoch'; mark: EpochMark };

function typeOf(op: StoreOp): number {
  switch (op.op) {
    case 'add':
      return RecordType.Add;
    case 'remove':
      return RecordType.Remove;
    case 'dispatched':
      return RecordType.Dispatched;
    case 'add-subscription':
      return RecordType.SubscriptionAdd;
    case 'remove-subscription':
      return RecordType.SubscriptionRemove;
    case 'add-destination':
      return RecordType.DestinationAdd;
    case 'remove-destination':
      return RecordType.DestinationRemove;
    case 'purge':
      return RecordType.Purge;
  }
}

function writePairs(w: BinaryWriter, pairs: Record<string, string>): void {
  const keys = Object.keys(pairs);
  w.u32(keys.length);
  for (const k of keys) {
    w.str(k);
    w.str(pairs[k]);
  }
}

const NO_PAIRS: Record<string, string> = Object.freeze(Object.create(null));
const NO_PATH: readonly string[] = Object.freeze([]);

/** Header maps are read-only once stored, so messages without headers share one empty map. */
function readPairs(r: BinaryReader): Record<string, string> {
  const n = r.u32();
  if (n === 0) return NO_PAIRS;
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < n; i++) {
    const k = r.str();
    out[k] = r.str();
  }
  return out;
}

function writeMessage(w: BinaryWriter, m: StoredMessage): void {
  w.str(m.id);
  w.u8(m.priority);
  w.f64(m.expiration);
  w.f64(m.timestamp);
  w.u32(m.redeliveryCounter);
  w.u16(m.brokerPath.length);
  for (const b of m.brokerPath) w.str(b);
  writePairs(w, m.headers);
  if (m.brokerHeaders) {
    w.u8(1);
    writePairs(w, m.brokerHeaders);
  } else w.u8(0);
  w.bytes(m.body);
}

/** `id`, when the caller has the message id already: it is skipped, and that string is used. */
function readMessage(r: BinaryReader, knownId?: string): StoredMessage {
  let id: string;
  if (knownId === undefined) id = r.str();
  else {
    r.skipStr();
    id = knownId;
  }
  const priority = r.u8();
  const expiration = r.f64();
  const timestamp = r.f64();
  const redeliveryCounter = r.u32();
  let brokerPath = NO_PATH;
  const hops = r.u16();
  if (hops > 0) {
    const path: string[] = [];
    for (let n = hops; n > 0; n--) path.push(r.str());
    brokerPath = path;
  }
  const headers = readPairs(r);
  const brokerHeaders = r.u8() === 1 ? readPairs(r) : undefined;
  const body = r.bytes();
  return { id, priority, expiration, timestamp, redeliveryCounter, brokerPath, headers, brokerHeaders, body };
}

function writeOpPayload(w: BinaryWriter, op: StoreOp): void {
  switch (op.op) {
    case 'add':
      w.str(op.destination);
      w.u16(op.subscriptions?.length ?? 0);
      for (const s of op.subscriptions ?? []) w.str(s);
      w.u8((op.subscriptions ? ADD_FOR_SUBSCRIPTIONS : 0) | (op.duplicateId !== undefined ? ADD_WITH_DUPLICATE_ID : 0) | (op.message.persistent === false ? ADD_NON_PERSISTENT : 0));
      if (op.duplicateId !== undefined) w.str(op.duplicateId);
      writeMessage(w, op.message);
      return;
    case 'remove':
    case 'dispatched':
      w.str(op.destination);
      w.str(op.messageId);
      w.str(op.subscription ?? '');
      w.u8(op.subscription !== undefined ? 1 : 0);
      if (op.op === 'dispatched') w.str(op.consumer ?? '');
      // Last, so that records written before positions were recorded still read.
      if (op.position !== undefined) w.f64(op.position);
      return;
    case 'add-subscription': {
      const s = op.subscription;
      w.str(s.id);
      w.str(s.key);
      w.str(s.clientId);
      w.str(s.subscriptionName);
      w.str(s.destination);
      w.u8(s.selector !== undefined ? 1 : 0);
      w.str(s.selector ?? '');
      w.u8(s.noLocal ? 1 : 0);
      return;
    }
    case 'remove-subscription':
      w.str(op.destination);
      w.str(op.id);
      return;
    case 'add-destination':
    case 'remove-destination':
      w.str(op.destination);
      return;
    case 'purge':
      w.str(op.destination);
      w.f64(op.after);
      w.f64(op.upTo);
      return;
  }
}

function readOpPayload(type: number, r: BinaryReader): StoreOp {
  switch (type) {
    case RecordType.Add: {
      const destination = r.str();
      const subs: string[] = [];
      for (let n = r.u16(); n > 0; n--) subs.push(r.str());
      const flags = r.u8();
      const duplicateId = flags & ADD_WITH_DUPLICATE_ID ? r.str() : undefined;
      const message = readMessage(r);
      return { op: 'add', destination, message: flags & ADD_NON_PERSISTENT ? { ...message, persistent: false } : message, subscriptions: flags & ADD_FOR_SUBSCRIPTIONS ? subs : undefined, duplicateId };
    }
    case RecordType.Remove:
    case RecordType.Dispatched: {
      const destination = r.str();
      const messageId = r.str();
      const sub = r.str();
      const subscription = r.u8() === 1 ? sub : undefined;
      if (type === RecordType.Remove) return { op: 'remove', destination, messageId, subscription, position: r.remaining() >= 8 ? r.f64() : undefined };
      const consumer = r.str();
      return { op: 'dispatched', destination, messageId, subscription, consumer: consumer || undefined, position: r.remaining() >= 8 ? r.f64() : undefined };
    }
    case RecordType.SubscriptionAdd: {
      const id = r.str();
      const key = r.str();
      const clientId = r.str();
      const subscriptionName = r.str();
      const destination = r.str();
      const hasSelector = r.u8() === 1;
      const selector = r.str();
      const subscription: DurableSubscriptionRecord = { id, key, clientId, subscriptionName, destination, selector: hasSelector ? selector : undefined, noLocal: r.u8() === 1 };
      return { op: 'add-subscription', subscription };
    }
    case RecordType.SubscriptionRemove:
      return { op: 'remove-subscription', destination: r.str(), id: r.str() };
    case RecordType.DestinationAdd:
      return { op: 'add-destination', destination: r.str() };
    case RecordType.DestinationRemove:
      return { op: 'remove-destination', destination: r.str() };
    case RecordType.Purge:
      return { op: 'purge', destination: r.str(), after: r.f64(), upTo: r.f64() };
    default:
      throw storeError('STORE_CORRUPT_RECORD', `unknown record type ${type}`);
  }
}

/** Appends one record to `w`, returning its offset within `w`. */
function writeRecord(w: BinaryWriter, type: number, body: (w: BinaryWriter) => void): number {
  const start = w.skip(RECORD_HEADER);
  body(w);
  const end = w.length;
  const buf = w.buf;
  buf.writeUInt16BE(RECORD_MAGIC, start);
  buf.writeUInt32LE(end - start - RECORD_HEADER, start + 2);
  buf[start + 6] = type;
  buf.writeUInt32LE(recordChecksum(buf, start, end - start - RECORD_HEADER), start + 7);
  return start;
}

export function encodeOp(w: BinaryWriter, op: StoreOp): number {
  return writeRecord(w, typeOf(op), (x) => writeOpPayload(x, op));
}

export function encodeTransaction(w: BinaryWriter, transactionId: string, ops: readonly StoreOp[]): number {
  return writeRecord(w, RecordType.Transaction, (x) => {
    x.str(transactionId);
    x.u32(ops.length);
    for (const op of ops) {
      x.u8(typeOf(op));
      const lengthAt = x.skip(4);
      writeOpPayload(x, op);
      x.buf.writeUInt32LE(x.length - lengthAt - 4, lengthAt);
    }
  });
}

export function encodeEpoch(w: BinaryWriter, mark: EpochMark): number {
  return writeRecord(w, RecordType.Epoch, (x) => {
    x.u32(mark.epoch);
    x.u32(mark.fencedSegment);
    x.f64(mark.fencedEnd);
  });
}

/** What recovery needs of an Add record to index it, without decoding the message. */
export function peekAdd(payload: Buffer): { destination: string; subscriptions: string[] | undefined; messageId: string; duplicateId: string | undefined } {
  const r = new BinaryReader(payload, 0, payload.length, truncatedRecord);
  const destination = r.str();
  const subs: string[] = [];
  for (let n = r.u16(); n > 0; n--) subs.push(r.str());
  const flags = r.u8();
  const duplicateId = flags & ADD_WITH_DUPLICATE_ID ? r.str() : undefined;
  return { destination, subscriptions: flags & ADD_FOR_SUBSCRIPTIONS ? subs : undefined, messageId: r.str(), duplicateId };
}

/** Decodes a record's payload (its checksum already verified). */
export function decodeRecord(type: number, payload: Buffer): DecodedRecord {
  const r = new BinaryReader(payload, 0, payload.length, truncatedRecord);
  if (type === RecordType.Transaction) {
    const transactionId = r.str();
    const ops: StoreOp[] = [];
    for (let n = r.u32(); n > 0; n--) {
      const t = r.u8();
      const len = r.u32();
      ops.push(readOpPayload(t, new BinaryReader(payload, r.pos, r.pos + len, truncatedRecord)));
      r.pos += len;
    }
    return { type: 'transaction', transactionId, ops };
  }
  if (type === RecordType.Epoch) return { type: 'epoch', mark: { epoch: r.u32(), fencedSegment: r.u32(), fencedEnd: r.f64() } };
  return { type: 'op', op: readOpPayload(type, r) };
}

/** Checksum of a record at `offset` in `buf`, as stored in its header. */
export function recordChecksum(buf: Buffer, offset: number, payloadLength: number): number {
  return crc32(buf.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + payloadLength), crc32(buf.subarray(offset + 6, offset + 7)));
}

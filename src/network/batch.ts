/**
 * Bridge batches: the messages a bridge carries travel many to a frame (a
 * MESSAGE to a network consumer, a SEND of a forwarding bridge), each as
 * its identity, its headers and its body, length-prefixed and unescaped.
 * Reading a message out of a batch is a few slices, where a frame of its own
 * costs a parse, an escape on one side and an unescape on the other.
 *
 *   batch := entry{count}                 (count: the frame's BATCH_HEADER)
 *   entry := u8 persistent, u8 priority, f64 expiration, f64 timestamp,
 *            u32 redeliveryCounter, (text destination | SAME), text id,
 *            (u32 n, n × text | SAME) broker path,
 *            u32 n, n × (text name, text value), u32 length, body
 *   text  := u32 length, UTF-8
 *
 * SAME (a u32 0xffffffff) stands for the previous entry's destination or
 * path: a batch's messages mostly share both. Numbers are little-endian.
 * Everything read is checked against the frame's bounds before it is used.
 * The frame acknowledges as one (its `ack`, to a network consumer).
 */
import { type BrokerMessage, type Headers, type PeerMessage, stompName } from '../broker/extension.js';
import { networkError } from '../errors.js';
import { BinaryReader, BinaryWriter } from '../util/binary.js';

/** The header of a batch frame: how many messages its body holds. */
export const BATCH_HEADER = 'amq-sim-batch';
/** Messages past this many bytes (their size as memory limits count it) start a new frame; a larger one goes alone. */
export const BATCH_BYTES = 128 * 1024;

/** A message read from a batch: what it is (PeerMessage), where it goes, its headers and body. */
export interface BatchEntry extends PeerMessage {
  destination: string;
  headers: Headers;
  body: Buffer;
}

const SAME = 0xffffffff;

/** The body of a batch frame carrying these messages out of broker `via`, which joins their broker path. */
export function encodeBatch(items: readonly { message: BrokerMessage }[], via: string): Buffer {
  // The fixed fields, an id and a few short headers; more grows the buffer.
  let guess = 0;
  for (const { message } of items) guess += message.body.length + 128;
  const w = new BinaryWriter(guess);
  let previous: BrokerMessage | null = null;
  for (const { message: m } of items) {
    w.u8(m.persistent ? 1 : 0);
    w.u8(m.priority);
    w.f64(m.expiration);
    w.f64(m.timestamp);
    w.u32(m.redeliveryCounter);
    if (previous?.destination.key === m.destination.key) w.u32(SAME);
    else w.str(stompName(m.destination));
    w.str(m.id);
    if (previous !== null && samePath(previous.brokerPath, m.brokerPath)) w.u32(SAME);
    else {
      w.u32(m.brokerPath.length + 1);
      for (const b of m.brokerPath) w.str(b);
      w.str(via);
    }
    w.u32(countKeys(m.brokerHeaders) + countKeys(m.headers));
    if (m.brokerHeaders) for (const k in m.brokerHeaders) pair(w, k, m.brokerHeaders[k]);
    for (const k in m.headers) pair(w, k, m.headers[k]);
    w.bytes(m.body);
    previous = m;
  }
  return w.buf.subarray(0, w.length);
}

function pair(w: BinaryWriter, name: string, value: string): void {
  w.str(name);
  w.str(value);
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function countKeys(h: Headers | undefined): number {
  let n = 0;
  if (h) for (const _ in h) n++;
  return n;
}

/**
 * The messages of a batch frame; throws NetworkError for a body that is not
 * `count` well-formed entries. What it makes is bounded by the frame's size
 * (each field costs at least its bytes or its length prefix).
 */
export function decodeBatch(body: Buffer, countHeader: string | undefined): BatchEntry[] {
  const count = Number(countHeader);
  if (!Number.isInteger(count) || count < 1) throw bad(`${BATCH_HEADER} header ${JSON.stringify(countHeader ?? null)} is not a message count`);
  const r = new BinaryReader(body, 0, body.length, () => bad('it ends inside a message'));
  /** True (and read) when SAME comes next, which message `i` may use only after the first. */
  const same = (i: number): boolean => {
    if (r.remaining() < 4 || body.readUInt32LE(r.pos) !== SAME) return false;
    if (i === 0) throw bad('its first message refers to a previous one');
    r.pos += 4;
    return true;
  };
  const entries: BatchEntry[] = [];
  let destination = '';
  let brokerPath: string[] = [];
  for (let i = 0; i < count; i++) {
    const persistent = r.u8();
    const priority = r.u8();
    const expiration = r.f64();
    const timestamp = r.f64();
    const redeliveryCounter = r.u32();
    if (persistent > 1 || priority > 9 || !(expiration >= 0) || !(timestamp >= 0)) throw bad(`message ${i + 1} has an impossible identity`);
    if (!same(i)) destination = r.str();
    const id = r.str();
    if (id === '') throw bad(`message ${i + 1} has no id`);
    if (!same(i)) {
      const hops = r.u32();
      brokerPath = [];
      for (let j = 0; j < hops; j++) brokerPath.push(r.str());
    }
    const n = r.u32();
    const headers: Headers = Object.create(null);
    for (let j = 0; j < n; j++) {
      const name = r.str();
      const value = r.str();
      if (!(name in headers)) headers[name] = value;
    }
    entries.push({ id, persistent: persistent === 1, priority, expiration, timestamp, brokerPath, redeliveryCounter, destination, headers, body: r.bytes() });
  }
  if (!r.done) throw bad(`${r.remaining()} bytes after its ${count} messages`);
  return entries;
}

const bad = (reason: string) => networkError('NETWORK_BAD_MESSAGE', 'batch', reason);

import { describe, expect, it } from 'vitest';
import { destination } from '../../src/broker/core/destination.js';
import { BrokerMessage } from '../../src/broker/core/message.js';
import { NetworkError } from '../../src/errors.js';
import { decodeBatch, encodeBatch } from '../../src/network/batch.js';

function message(n: number, o: Partial<ConstructorParameters<typeof BrokerMessage>[0]> = {}): BrokerMessage {
  const headers = Object.create(null) as Record<string, string>;
  headers.n = String(n);
  return new BrokerMessage({
    id: `ID:hub-1:${n}`,
    destination: destination('queue', 'orders'),
    headers,
    body: Buffer.from(`body ${n}`),
    persistent: n % 2 === 0,
    priority: n % 10,
    expiration: n === 3 ? 1_900_000_000_123 : 0,
    timestamp: 1_800_000_000_000 + n,
    ...o,
  });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NetworkError);
    return `${(err as NetworkError).code}: ${(err as Error).message}`;
  }
  throw new Error('no error');
}

describe('bridge batches (codec)', () => {
  it('carries each message with its identity, headers and body, its path ending at the sending broker', () => {
    const unicode = Object.create(null) as Record<string, string>;
    unicode['naïve:key'] = 'välue\nwith\\escapes:and colons 😀';
    const messages = [
      message(0),
      message(1, { brokerPath: ['edge1'] }),
      message(2, { brokerPath: ['edge1'], destination: destination('topic', 'prices.eu'), redeliveryCounter: 3 }),
      message(3, { headers: unicode, brokerHeaders: { 'original-destination': '/queue/x' }, body: Buffer.alloc(0) }),
      message(4, { body: Buffer.alloc(200_000, 7) }),
    ];
    const entries = decodeBatch(encodeBatch(messages.map((message) => ({ message })), 'hub'), '5');
    expect(entries).toHaveLength(5);
    entries.forEach((e, i) => {
      const m = messages[i];
      expect(e.id).toBe(m.id);
      expect(e.persistent).toBe(m.persistent);
      expect(e.priority).toBe(m.priority);
      expect(e.expiration).toBe(m.expiration);
      expect(e.timestamp).toBe(m.timestamp);
      expect(e.redeliveryCounter).toBe(m.redeliveryCounter);
      expect(e.brokerPath).toEqual([...m.brokerPath, 'hub']);
      expect(e.destination).toBe(i === 2 ? '/topic/prices.eu' : '/queue/orders');
      expect(Buffer.compare(e.body, m.body)).toBe(0);
    });
    expect({ ...entries[3].headers }).toEqual({ 'original-destination': '/queue/x', 'naïve:key': 'välue\nwith\\escapes:and colons 😀' });
    expect({ ...entries[0].headers }).toEqual({ n: '0' });
  });

  it('says a destination and a path once for the messages after the first that share them', () => {
    const messages = Array.from({ length: 100 }, (_, i) => ({ message: message(i, { brokerPath: ['edge1'] }) }));
    const body = encodeBatch(messages, 'hub');
    const text = (s: string) => 4 + Buffer.byteLength(s);
    let expected = 0;
    for (const [i, { message: m }] of messages.entries()) {
      const destination = i === 0 ? text('/queue/orders') : 4;
      const path = i === 0 ? 4 + text('edge1') + text('hub') : 4;
      expected += 22 + destination + text(m.id) + path + 4 + text('n') + text(m.headers.n) + 4 + m.body.length;
    }
    expect(body.length).toBe(expected);
    expect(decodeBatch(body, '100').map((e) => `${e.destination} ${e.brokerPath.join(',')}`)).toEqual(Array(100).fill('/queue/orders edge1,hub'));
  });

  it('refuses what is not a batch, with the reason, before reading past the frame', () => {
    const good = encodeBatch([{ message: message(1) }, { message: message(2) }], 'hub');
    expect(codeOf(() => decodeBatch(good, undefined))).toBe('NETWORK_BAD_MESSAGE: Invalid batch from the remote broker: amq-sim-batch header null is not a message count');
    expect(codeOf(() => decodeBatch(good, '0'))).toMatch(/is not a message count$/);
    expect(codeOf(() => decodeBatch(good, '1'))).toMatch(/bytes after its 1 messages$/);
    expect(codeOf(() => decodeBatch(good, '3'))).toMatch(/it ends inside a message$/);
    expect(codeOf(() => decodeBatch(good.subarray(0, good.length - 1), '2'))).toMatch(/it ends inside a message$/);
    // A count far beyond the body ends at its first missing byte, not after a billion entries.
    expect(codeOf(() => decodeBatch(good, '1000000000'))).toMatch(/it ends inside a message$/);
    const lying = Buffer.from(good);
    lying.writeUInt32LE(0xfffffff0, 22); // the first destination's length
    expect(codeOf(() => decodeBatch(lying, '2'))).toMatch(/it ends inside a message$/);
    const sameFirst = Buffer.from(good);
    sameFirst.writeUInt32LE(0xffffffff, 22);
    expect(codeOf(() => decodeBatch(sameFirst, '2'))).toMatch(/its first message refers to a previous one$/);
    const badPriority = Buffer.from(good);
    badPriority[1] = 10;
    expect(codeOf(() => decodeBatch(badPriority, '2'))).toMatch(/message 1 has an impossible identity$/);
    const noId = encodeBatch([{ message: message(1, { id: '' }) }], 'hub');
    expect(codeOf(() => decodeBatch(noId, '1'))).toMatch(/message 1 has no id$/);
  });
});

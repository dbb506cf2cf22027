import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/client/index.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';

function collector() {
  const got: ReceivedMessage[] = [];
  return { got, handler: (m: ReceivedMessage) => got.push(m) };
}

describe('queues and topics', () => {
  it('delivers MESSAGE frames with the standard headers and every user header', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const { got, handler } = collector();
    await c.subscribe('/queue/h', handler, { ack: 'client-individual', id: 'sub-7' });
    const expires = Date.now() + 60_000;
    await c.sendWithReceipt('/queue/h', Buffer.from([0, 1, 2]), {
      persistent: 'true',
      priority: '7',
      expires: String(expires),
      'correlation-id': 'c1',
      'reply-to': '/queue/replies',
      custom: 'value:with\\escapes',
      'content-type': 'application/octet-stream',
    });
    await eventually(() => got.length === 1);
    const h = got[0].headers;
    expect(h['message-id']).toMatch(/^ID:/);
    expect(h.destination).toBe('/queue/h');
    expect(h.subscription).toBe('sub-7');
    expect(h.ack).toBeDefined();
    expect(Number(h.timestamp)).toBeGreaterThan(Date.now() - 10_000);
    expect(h.expires).toBe(String(expires));
    expect(h.priority).toBe('7');
    expect(h.persistent).toBe('true');
    expect(h.redelivered).toBeUndefined();
    expect(h['correlation-id']).toBe('c1');
    expect(h['reply-to']).toBe('/queue/replies');
    expect(h.custom).toBe('value:with\\escapes');
    expect(h['content-type']).toBe('application/octet-stream');
    expect(h['content-length']).toBe('3');
    expect([...got[0].body]).toEqual([0, 1, 2]);
  });

  it('gives each queue message to exactly one consumer, round robin', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const consumers = await Promise.all([0, 1, 2].map(() => connectClient(broker)));
    const seen: string[][] = [[], [], []];
    for (let i = 0; i < 3; i++) await consumers[i].subscribe('/queue/rr', (m) => seen[i].push(m.text));
    for (let i = 0; i < 30; i++) p.send('/queue/rr', String(i));
    await p.sendWithReceipt('/queue/other', 'flush');
    await eventually(() => seen.flat().length === 30);
    expect(seen.map((s) => s.length)).toEqual([10, 10, 10]);
    expect(seen[0].slice(0, 3)).toEqual(['0', '3', '6']);
    expect(new Set(seen.flat()).size).toBe(30);
  });

  it('keeps at most activemq.prefetchSize unacknowledged messages at a consumer', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const slow = await connectClient(broker);
    const { got, handler } = collector();
    await slow.subscribe('/queue/pf', handler, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '3' } });
    for (let i = 0; i < 10; i++) await p.sendWithReceipt('/queue/pf', String(i));
    await sleep(100);
    expect(got.length).toBe(3);
    slow.ack(got[0]);
    await eventually(() => got.length === 4);
    await sleep(50);
    expect(got.length).toBe(4);
    expect(broker.router.queues.get('queue://pf')!.size).toBe(6);
  });

  it('returns unacknowledged messages, marked redelivered, when the consumer leaves', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const first = await connectClient(broker);
    const a = collector();
    const sub = await first.subscribe('/queue/rd', a.handler, { ack: 'client-individual' });
    for (let i = 0; i < 5; i++) await p.sendWithReceipt('/queue/rd', String(i));
    await eventually(() => a.got.length === 5);
    first.ack(a.got[1]);
    await sub.unsubscribe();
    const second = await connectClient(broker);
    const b = collector();
    await second.subscribe('/queue/rd', b.handler, { ack: 'client-individual' });
    await eventually(() => b.got.length === 4);
    expect(b.got.map((m) => m.text)).toEqual(['0', '2', '3', '4']);
    expect(b.got.every((m) => m.redelivered)).toBe(true);
    expect(b.got[0].headers.JMSXDeliveryCount).toBe('2');
  });

  it('returns unacknowledged messages when the connection drops', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const doomed = await connectClient(broker);
    const a = collector();
    await doomed.subscribe('/queue/drop', a.handler, { ack: 'client' });
    for (let i = 0; i < 3; i++) await p.sendWithReceipt('/queue/drop', String(i));
    await eventually(() => a.got.length === 3);
    doomed.destroy();
    const next = await connectClient(broker);
    const b = collector();
    await next.subscribe('/queue/drop', b.handler);
    await eventually(() => b.got.length === 3);
    expect(b.got.map((m) => [m.text, m.redelivered])).toEqual([
      ['0', true],
      ['1', true],
      ['2', true],
    ]);
  });

  it('gives every topic subscriber every message', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const subs = await Promise.all([0, 1, 2].map(() => connectClient(broker)));
    const seen: string[][] = [[], [], []];
    for (let i = 0; i < 3; i++) await subs[i].subscribe('/topic/news', (m) => seen[i].push(m.text));
    for (let i = 0; i < 20; i++) p.send('/topic/news', String(i));
    await eventually(() => seen.every((s) => s.length === 20));
    for (const s of seen) expect(s).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });

  it('does not keep topic messages for nobody', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    await p.sendWithReceipt('/topic/void', 'lost');
    const c = await connectClient(broker);
    const { got, handler } = collector();
    await c.subscribe('/topic/void', handler);
    await p.sendWithReceipt('/topic/void', 'seen');
    await eventually(() => got.length === 1);
    expect(got[0].text).toBe('seen');
  });
});

describe('acknowledgement modes', () => {
  async function delivered(version: string, ack: 'client' | 'client-individual', count: number) {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const c = await connectClient(broker, { acceptVersion: version });
    const { got, handler } = collector();
    await c.subscribe('/queue/ack', handler, { ack });
    for (let i = 0; i < count; i++) await p.sendWithReceipt('/queue/ack', String(i));
    await eventually(() => got.length === count);
    return { broker, c, got, queue: () => broker.router.queues.get('queue://ack')! };
  }

  for (const version of ['1.0', '1.1', '1.2']) {
    it(`client ack is cumulative (STOMP ${version})`, async () => {
      const { c, got, queue } = await delivered(version, 'client', 5);
      await c.ackWithReceipt(got[2]);
      expect(queue().stats.dequeued).toBe(3);
      await c.ackWithReceipt(got[4]);
      expect(queue().stats.dequeued).toBe(5);
    });

    it(`client-individual ack takes one message (STOMP ${version})`, async () => {
      const { c, got, queue } = await delivered(version, 'client-individual', 3);
      await c.ackWithReceipt(got[2]);
      expect(queue().stats.dequeued).toBe(1);
      await c.ackWithReceipt(got[0]);
      expect(queue().stats.dequeued).toBe(2);
    });
  }

  it('refuses an ACK for a message that is not in flight', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write('ACK\nid:nope\nreceipt:r1\n\n\0');
    const e = await s.next('ERROR');
    expect(e.headers.message).toBe('Unexpected ACK received for message-id [nope]');
    expect(e.headers['receipt-id']).toBe('r1');
    await s.waitClosed();
  });

  it('refuses NACK in STOMP 1.0', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect('login:x');
    s.write('NACK\nmessage-id:x\n\n\0');
    expect((await s.next('ERROR')).headers.message).toBe('NACK received but connection is in v1.0 mode.');
  });

  it('sends a NACKed message to ActiveMQ.DLQ with its original destination (ActiveMQ poison ack)', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const { got, handler } = collector();
    await c.subscribe('/queue/work', handler, { ack: 'client-individual' });
    await c.sendWithReceipt('/queue/work', 'poison', { persistent: 'true' });
    await eventually(() => got.length === 1);
    c.nack(got[0]);
    const dlq = collector();
    await c.subscribe('/queue/ActiveMQ.DLQ', dlq.handler);
    await eventually(() => dlq.got.length === 1);
    expect(dlq.got[0].text).toBe('poison');
    expect(dlq.got[0].headers['original-destination']).toBe('/queue/work');
    expect(dlq.got[0].headers.dlqDeliveryFailureCause).toContain('NACK');
  });
});

describe('transactions and receipts', () => {
  it('makes transactional sends visible only on COMMIT, and drops them on ABORT', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const { got, handler } = collector();
    await c.subscribe('/queue/tx', handler);
    const t1 = await c.begin();
    c.send('/queue/tx', 'a', { transaction: t1 });
    c.send('/queue/tx', 'b', { transaction: t1 });
    await sleep(50);
    expect(got).toHaveLength(0);
    await c.commit(t1);
    await eventually(() => got.length === 2);
    const t2 = await c.begin();
    c.send('/queue/tx', 'c', { transaction: t2 });
    await c.abort(t2);
    await c.sendWithReceipt('/queue/tx', 'd');
    await eventually(() => got.length === 3);
    expect(got.map((m) => m.text)).toEqual(['a', 'b', 'd']);
  });

  it('applies transactional ACKs on COMMIT; after ABORT the messages stay unacknowledged and come back when the consumer leaves', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const c = await connectClient(broker);
    const { got, handler } = collector();
    const sub = await c.subscribe('/queue/txack', handler, { ack: 'client-individual' });
    for (let i = 0; i < 3; i++) await p.sendWithReceipt('/queue/txack', String(i));
    await eventually(() => got.length === 3);
    const q = broker.router.queues.get('queue://txack')!;
    const t1 = await c.begin();
    c.ack(got[0], t1);
    await c.commit(t1);
    expect(q.stats.dequeued).toBe(1);
    const t2 = await c.begin();
    c.ack(got[1], t2);
    await c.abort(t2);
    expect(q.stats.dequeued).toBe(1);
    await sub.unsubscribe();
    const again = collector();
    await c.subscribe('/queue/txack', again.handler);
    await eventually(() => again.got.length === 2);
    expect(again.got.map((m) => m.text)).toEqual(['1', '2']);
  });

  it('refuses unknown and duplicate transactions', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write('COMMIT\ntransaction:nope\n\n\0');
    expect((await s.next('ERROR')).headers.message).toBe('Invalid transaction id: nope');
    const s2 = await RawStompSocket.connect(broker.port());
    await s2.connect();
    s2.write('BEGIN\ntransaction:t\n\n\0BEGIN\ntransaction:t\n\n\0');
    expect((await s2.next('ERROR')).headers.message).toBe('The transaction was already started: t');
    const s3 = await RawStompSocket.connect(broker.port());
    await s3.connect();
    s3.write('BEGIN\n\n\0');
    expect((await s3.next('ERROR')).headers.message).toBe('Must specify the transaction you are beginning');
  });

  it('sends a RECEIPT for every frame that asks for one, in order', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write(
      [
        'SUBSCRIBE\nid:1\ndestination:/queue/r\nack:client\nreceipt:sub\n\n\0',
        'BEGIN\ntransaction:t\nreceipt:begin\n\n\0',
        'SEND\ndestination:/queue/r\ntransaction:t\nreceipt:send-tx\n\nx\0',
        'COMMIT\ntransaction:t\nreceipt:commit\n\n\0',
        'SEND\ndestination:/queue/r\npersistent:true\nreceipt:send\n\ny\0',
      ].join(''),
    );
    const receipts: string[] = [];
    const ackIds: string[] = [];
    while (receipts.length < 5 || ackIds.length < 2) {
      const f = await s.next();
      if (f.command === 'RECEIPT') receipts.push(f.headers['receipt-id']);
      if (f.command === 'MESSAGE') ackIds.push(f.headers.ack);
    }
    expect(receipts).toEqual(['sub', 'begin', 'send-tx', 'commit', 'send']);
    s.write(`ACK\nid:${ackIds[1]}\nreceipt:ack\n\n\0`);
    s.write('BEGIN\ntransaction:t2\n\n\0ABORT\ntransaction:t2\nreceipt:abort\n\n\0UNSUBSCRIBE\nid:1\nreceipt:unsub\n\n\0DISCONNECT\nreceipt:bye\n\n\0');
    const tail: string[] = [];
    while (tail.length < 4) {
      const f = await s.next();
      if (f.command === 'RECEIPT') tail.push(f.headers['receipt-id']);
      else if (f.command === 'ERROR') throw new Error(f.headers.message);
    }
    expect(tail).toEqual(['ack', 'abort', 'unsub', 'bye']);
    await s.waitClosed();
  });
});

describe('transport back-pressure', () => {
  it('keeps delivering when a burst fills the consumer socket past the high-water mark', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    const c = await connectClient(broker);
    let received = 0;
    await c.subscribe('/queue/burst', () => received++);
    const body = Buffer.alloc(2048, 'b');
    for (let i = 0; i < 5000; i++) {
      p.send('/queue/burst', body);
      if (p.backlogAbove(1 << 20)) await p.drained();
    }
    await eventually(() => received === 5000, 20_000, `5000 messages (got ${received})`);
  });
});

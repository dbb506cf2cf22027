/**
 * Limits that hold (ActiveMQ's systemUsage and producer flow control): a full
 * destination holds its producers and nothing else; sendFailIfNoSpace refuses
 * them with ActiveMQ's text; without flow control non-persistent messages
 * spill to the temp store; transactions and incomplete frames are counted.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { PartialBrokerConfig } from '../../src/config/broker-config.js';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';
import { RawStompSocket } from '../helpers/raw-socket.js';

const KB = 1024;
const BODY = 'x'.repeat(KB);

function limited(memory: string, extra: PartialBrokerConfig = {}): Promise<Broker> {
  return startBroker({ ...extra, systemUsage: { memoryUsage: { limit: memory as unknown as number }, ...extra.systemUsage } });
}

async function rawClient(broker: Broker): Promise<RawStompSocket> {
  const s = await RawStompSocket.connect(broker.port());
  await s.connect();
  return s;
}

/** `count` non-persistent SENDs written in one go without receipts, then one with a receipt. */
function flood(s: RawStompSocket, destination: string, count: number, receipt = 'last'): void {
  const frame = `SEND\ndestination:${destination}\ncontent-length:${BODY.length}\n\n${BODY}\0`;
  s.write(frame.repeat(count) + `SEND\ndestination:${destination}\nreceipt:${receipt}\n\nend\0`);
}

describe('producer flow control', () => {
  it('holds a flooding producer at the memory limit while a client-individual consumer drains the queue, and new clients connect', async () => {
    const broker = await limited('1 mb');
    const producer = await rawClient(broker);
    const total = 3000;
    flood(producer, '/queue/flood', total);
    // The producer is held: memory stops at the limit, far short of 3 MB.
    await eventually(() => broker.router.usage.memory.isFull(), 5000, 'the memory limit reached');
    expect(broker.router.memoryInUse).toBeLessThan(1.5 * 1024 * KB);
    const late = await connectClient(broker, { connectTimeout: 1000 });
    await late.disconnect();

    const consumer = await connectClient(broker);
    let received = 0;
    await consumer.subscribe(
      '/queue/flood',
      (m) => {
        received++;
        void consumer.ackWithReceipt(m);
      },
      { ack: 'client-individual', headers: { 'activemq.prefetchSize': '10' } },
    );
    const receipt = await producer.next('RECEIPT', 30_000);
    expect(receipt.headers['receipt-id']).toBe('last');
    await eventually(() => received === total + 1, 30_000, 'the consumer draining everything');
  });

  it('serves a connection that both produces and consumes: its ACKs free the room its SENDs wait for', async () => {
    const broker = await limited('256 kb');
    const c = await connectClient(broker);
    let received = 0;
    await c.subscribe(
      '/queue/self',
      (m) => {
        received++;
        c.ack(m);
      },
      { ack: 'client-individual', headers: { 'activemq.prefetchSize': '5' } },
    );
    for (let i = 0; i < 2000; i++) c.send('/queue/self', BODY);
    await c.sendWithReceipt('/queue/self', 'last');
    await eventually(() => received === 2001, 20_000, 'every message back to the same connection');
  });

  it('holds only the producers of the destination that is full (a policy entry memoryLimit)', async () => {
    const broker = await limited('64 mb', { policyEntries: [{ queue: 'small', memoryLimit: '64 kb' as unknown as number }] });
    const toSmall = await rawClient(broker);
    flood(toSmall, '/queue/small', 200, 'small-done');
    await eventually(() => (broker.router.queues.get('queue://small')?.memoryUsage ?? 0) >= 64 * KB, 5000, 'the small queue full');
    const other = await connectClient(broker);
    for (let i = 0; i < 200; i++) await other.sendWithReceipt('/queue/big', BODY);
    expect(toSmall.frames.some((f) => f.command === 'RECEIPT')).toBe(false);
    const drain = await connectClient(broker);
    await drain.subscribe('/queue/small', () => {});
    expect((await toSmall.next('RECEIPT', 10_000)).headers['receipt-id']).toBe('small-done');
  });

  it('refuses at once with ActiveMQ\'s ResourceAllocationException text under sendFailIfNoSpace', async () => {
    const broker = await limited('64 kb', { systemUsage: { sendFailIfNoSpace: true } as never });
    const s = await rawClient(broker);
    flood(s, '/queue/full', 200);
    const error = await s.next('ERROR');
    expect(error.headers.message).toBe('Usage Manager Memory Limit reached on queue://full. See http://activemq.apache.org/producer-flow-control.html for more info');
    expect(error.headers['error-code']).toBe('STOMP_RESOURCE_FULL');
    await s.waitClosed();
  });

  it('refuses a producer that waited sendFailIfNoSpaceAfterTimeout for room', async () => {
    const broker = await limited('64 kb', { systemUsage: { sendFailIfNoSpaceAfterTimeout: 300 } as never });
    const s = await rawClient(broker);
    flood(s, '/queue/full', 200);
    const error = await s.next('ERROR', 5000);
    expect(error.headers['error-code']).toBe('STOMP_RESOURCE_FULL');
    expect(error.headers.message).toContain('Usage Manager Memory Limit reached on queue://full');
  });
});

describe('producerFlowControl=false: the temp store', () => {
  it('takes every non-persistent message past the memory limit into the temp store, and delivers them all in order', async () => {
    const broker = await limited('1 mb', { policy: { producerFlowControl: false } as never });
    const p = await connectClient(broker);
    const total = 4000;
    for (let i = 0; i < total; i++) p.send('/queue/spill', `${i}:${BODY}`);
    await p.sendWithReceipt('/queue/spill', `${total}:end`);
    const q = broker.router.queues.get('queue://spill')!;
    expect(q.size).toBe(total + 1);
    expect(q.backlog).toBeGreaterThan(total / 2);
    expect(broker.router.memoryInUse).toBeLessThanOrEqual(1024 * KB);
    // Non-persistent SENDs are receipted as taken; their writes to the temp store complete just after.
    await eventually(() => broker.router.usage.temp.used > 2 * 1024 * KB, 5000, 'the spilled messages in the temp store');
    const c = await connectClient(broker);
    const got: number[] = [];
    await c.subscribe('/queue/spill', (m) => got.push(Number(m.text.slice(0, m.text.indexOf(':')))));
    await eventually(() => got.length === total + 1, 20_000, 'every spilled message');
    expect(got).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
  });
});

describe('memory that clients hold', () => {
  it('counts messages in open transactions against the memory limit, caps them at half of it, and gives it back at the end', async () => {
    const broker = await limited('1 mb');
    const s = await rawClient(broker);
    s.write('BEGIN\ntransaction:t1\n\n\0');
    for (let i = 0; i < 100; i++) s.write(`SEND\ndestination:/queue/tx\ntransaction:t1\n\n${BODY}\0`);
    s.write('SEND\ndestination:/queue/tx\ntransaction:t1\nreceipt:r\n\nx\0');
    await s.next('RECEIPT');
    expect(broker.router.memoryInUse).toBeGreaterThan(100 * KB);
    for (let i = 0; i < 600; i++) s.write(`SEND\ndestination:/queue/tx\ntransaction:t1\n\n${BODY}\0`);
    const error = await s.next('ERROR');
    expect(error.headers['error-code']).toBe('STOMP_TRANSACTION_TOO_LARGE');
    await s.waitClosed();
    await eventually(() => broker.router.memoryInUse === 0, 2000, 'the transaction rolled back and its memory given back');
    expect(broker.router.queues.get('queue://tx')?.size ?? 0).toBe(0);
  });

  it('caps incomplete frames across connections: the one that would pass a quarter of the memory limit gets an ERROR', async () => {
    const broker = await limited('4 mb');
    const a = await rawClient(broker);
    const b = await rawClient(broker);
    a.write(`SEND\ndestination:/queue/big\ncontent-length:${800 * KB}\n\n` + 'a'.repeat(600 * KB));
    await new Promise((r) => setTimeout(r, 200));
    b.write(`SEND\ndestination:/queue/big\ncontent-length:${1024 * KB}\n\n` + 'b'.repeat(500 * KB));
    const error = await b.next('ERROR');
    expect(error.headers['error-code']).toBe('STOMP_FRAME_BUFFER_FULL');
    // The first one, within the cap, completes.
    a.write('a'.repeat(200 * KB) + '\0SEND\ndestination:/queue/big\nreceipt:r\n\nx\0');
    expect((await a.next('RECEIPT')).headers['receipt-id']).toBe('r');
  });
});

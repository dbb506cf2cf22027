/**
 * What real STOMP clients rely on, served as ActiveMQ serves it: receipt
 * order, queue browsing, expiry on arrival, no delivery before the store has
 * a persistent message, and duplicate detection for re-sends.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreOp, WriteCallback } from '../../src/store/types.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { tempDir } from '../helpers/temp-dir.js';

async function raw(port: number): Promise<RawStompSocket> {
  const s = await RawStompSocket.connect(port);
  await s.connect('accept-version:1.2\nhost:localhost');
  return s;
}

describe('receipt order', () => {
  it("writes a SUBSCRIBE's RECEIPT before any MESSAGE of that subscription (ActiveMQ; PHP's stomp blocks on it)", async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    for (let i = 0; i < 20; i++) await p.sendWithReceipt('/queue/waiting', `m${i}`, { persistent: 'true' });
    for (const ack of ['client-individual', 'auto']) {
      const s = await raw(broker.port());
      s.write(`SUBSCRIBE\nid:1\ndestination:/queue/waiting\nack:${ack}\nreceipt:sub-1\n\n\0`);
      await eventually(() => s.frames.length >= 2, 5000, `frames for ack:${ack}`);
      expect(s.frames[0].command).toBe('RECEIPT');
      expect(s.frames[0].headers['receipt-id']).toBe('sub-1');
      expect(s.frames[1].command).toBe('MESSAGE');
      s.close();
      // The unacknowledged messages return to the queue for the next round.
      if (ack !== 'auto') await eventually(() => broker.router.queues.get('queue://waiting')!.size === 20, 5000, 'the messages back on the queue');
    }
  });
});

describe('queue browsing (browser:true)', () => {
  it('delivers what the queue holds without consuming it, then browser:end; the messages stay for consumers', async () => {
    const broker = await startBroker();
    const p = await connectClient(broker);
    for (let i = 0; i < 5; i++) await p.sendWithReceipt('/queue/browse', `b${i}`);
    const s = await raw(broker.port());
    s.write('SUBSCRIBE\nid:look\ndestination:/queue/browse\nbrowser:true\nreceipt:r\n\n\0');
    await eventually(() => s.frames.some((f) => f.headers.browser === 'end'));
    expect(s.frames[0].command).toBe('RECEIPT');
    const browsed = s.frames.filter((f) => f.command === 'MESSAGE' && f.headers.browser !== 'end');
    expect(browsed.map((f) => f.body.toString())).toEqual(['b0', 'b1', 'b2', 'b3', 'b4']);
    const marker = s.frames.find((f) => f.headers.browser === 'end')!;
    expect(marker.headers).toMatchObject({ subscription: 'look', destination: '/queue/browse', 'message-id': '0' });
    expect(broker.router.queues.get('queue://browse')!.size).toBe(5);
    // A message sent after the browse began is not part of it.
    await p.sendWithReceipt('/queue/browse', 'late');
    await sleep(100);
    expect(s.frames.filter((f) => f.body.toString() === 'late')).toHaveLength(0);
    const got: string[] = [];
    await p.subscribe('/queue/browse', (m) => got.push(m.text));
    await eventually(() => got.length === 6);
  });

  it("refuses browsing for STOMP 1.0 and for topics, and a NACK of a browsed message, with ActiveMQ's texts", async () => {
    const broker = await startBroker();
    const old = await RawStompSocket.connect(broker.port());
    await old.connect('host:localhost');
    old.write('SUBSCRIBE\nid:x\ndestination:/queue/q\nbrowser:true\n\n\0');
    expect((await old.next('ERROR')).headers.message).toBe('Queue Browser feature only valid for Stomp v1.1+ clients!');
    const t = await raw(broker.port());
    t.write('SUBSCRIBE\nid:x\ndestination:/topic/t\nbrowser:true\n\n\0');
    expect((await t.next('ERROR')).headers['error-code']).toBe('STOMP_BROWSER_NOT_QUEUE');
    const p = await connectClient(broker);
    await p.sendWithReceipt('/queue/q', 'one');
    const s = await RawStompSocket.connect(broker.port());
    await s.connect('accept-version:1.1\nhost:localhost');
    s.write('SUBSCRIBE\nid:x\ndestination:/queue/q\nbrowser:true\n\n\0');
    const m = await s.next('MESSAGE');
    s.write(`ACK\nsubscription:x\nmessage-id:${m.headers['message-id']}\nreceipt:ok\n\n\0`);
    expect((await s.next('RECEIPT')).headers['receipt-id']).toBe('ok');
    s.write(`NACK\nsubscription:x\nmessage-id:${m.headers['message-id']}\n\n\0`);
    expect((await s.next('ERROR')).headers.message).toBe('Cannot Nack a message on a Queue Browser Subscription.');
  });
});

describe('expiry on arrival', () => {
  it('never delivers a message already expired when it arrives: persistent ones go to the DLQ, others are dropped', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const got: string[] = [];
    await c.subscribe('/queue/late', (m) => got.push(m.text));
    const topicGot: string[] = [];
    await c.subscribe('/topic/late', (m) => topicGot.push(m.text));
    const past = String(Date.now() - 1000);
    await c.sendWithReceipt('/queue/late', 'stale-persistent', { expires: past, persistent: 'true' });
    await c.sendWithReceipt('/queue/late', 'stale', { expires: past });
    await c.sendWithReceipt('/topic/late', 'stale-topic', { expires: past, persistent: 'true' });
    await c.sendWithReceipt('/queue/late', 'fresh', { expires: String(Date.now() + 60_000) });
    await eventually(() => got.length === 1);
    await sleep(100);
    expect(got).toEqual(['fresh']);
    expect(topicGot).toEqual([]);
    const dlq: string[] = [];
    await c.subscribe('/queue/ActiveMQ.DLQ', (m) => dlq.push(m.text));
    await eventually(() => dlq.length === 2);
    expect(dlq.sort()).toEqual(['stale-persistent', 'stale-topic']);
    expect(broker.router.queues.get('queue://late')!.stats.expired).toBe(2);
  });
});

/** A store whose writes complete only when the test says so. */
class HeldStore extends MemoryStore {
  readonly held: Array<() => void> = [];
  override write(op: StoreOp, done?: WriteCallback): void {
    this.held.push(() => super.write(op, done));
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

describe('persistent messages and the store', () => {
  it('reaches no consumer before the store has it, and keeps arrival order with non-persistent messages sent after it', async () => {
    const store = new HeldStore();
    const broker = await startBroker({}, { store });
    const c = await connectClient(broker);
    const got: string[] = [];
    await c.subscribe('/queue/durable-first', (m) => got.push(m.text));
    store.release();
    c.send('/queue/durable-first', 'persistent', { persistent: 'true' });
    c.send('/queue/durable-first', 'after');
    await eventually(() => store.held.length === 1);
    await sleep(100);
    expect(got).toEqual([]);
    store.release();
    await eventually(() => got.length === 2);
    expect(got).toEqual(['persistent', 'after']);
  });

  it('drops a re-send with the same _AMQ_DUPL_ID, also after a restart, and acknowledges it', async () => {
    const directory = tempDir('dupl');
    const config = { persistent: true, store: { directory } };
    const first = await startBroker(config);
    const c = await connectClient(first);
    await c.sendWithReceipt('/queue/idem', 'once', { persistent: 'true', _AMQ_DUPL_ID: 'order-1' });
    await c.sendWithReceipt('/queue/idem', 'once again', { persistent: 'true', _AMQ_DUPL_ID: 'order-1' });
    await c.sendWithReceipt('/queue/idem', 'other', { persistent: 'true', _AMQ_DUPL_ID: 'order-2' });
    await c.sendWithReceipt('/queue/elsewhere', 'same id, other queue', { persistent: 'true', _AMQ_DUPL_ID: 'order-1' });
    expect(first.router.queues.get('queue://idem')!.size).toBe(2);
    c.destroy();
    await first.stop();
    const second = await startBroker(config);
    const d = await connectClient(second);
    // The producer's receipt was lost in a failover, and it sends again: acknowledged, not stored twice.
    await d.sendWithReceipt('/queue/idem', 'once, re-sent', { persistent: 'true', _AMQ_DUPL_ID: 'order-1' });
    const got: string[] = [];
    await d.subscribe('/queue/idem', (m) => got.push(m.text));
    await eventually(() => got.length === 2);
    await sleep(100);
    expect(got).toEqual(['once', 'other']);
  });
});

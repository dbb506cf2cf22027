import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ReceivedMessage, StompClient } from '../../src/client/index.js';
import { drainAll, eventually, sleep } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

function storeDir(): string {
  return tempDir('crash');
}

async function startBroker(store: string) {
  const p = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--store', store, '--log-format', 'json', '--name', 'crashy']);
  const port = await p.port();
  return { p, port, url: `stomp://127.0.0.1:${port}` };
}

/** Receives everything left on a queue (until it has been quiet for a while). */
describe('kill -9 and restart', () => {
  it('keeps every receipted message; acked ones stay acked, unacked ones come back redelivered, none twice', async () => {
    const store = storeDir();
    const b1 = await startBroker(store);
    const producer = await StompClient.connect(b1.url);
    const consumer = await StompClient.connect(b1.url);
    const receipted = new Set<number>();
    const ackSent = new Set<number>();
    const ackConfirmed = new Set<number>();
    const deliveredBefore = new Map<number, number>();
    const neverAcked = (n: number) => n % 10 === 3;
    await consumer.subscribe('/queue/crash', (m) => {
      const n = Number(m.text);
      deliveredBefore.set(n, (deliveredBefore.get(n) ?? 0) + 1);
      if (neverAcked(n)) return;
      ackSent.add(n);
      consumer.ackWithReceipt(m).then(() => ackConfirmed.add(n), () => undefined);
    }, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '50' } });
    let stop = false;
    const producing = (async () => {
      for (let n = 0; !stop; n++) {
        try {
          await producer.sendWithReceipt('/queue/crash', String(n), { persistent: 'true' });
          receipted.add(n);
        } catch {
          return;
        }
      }
    })();
    await eventually(() => receipted.size > 300, 20_000, 'some receipted sends');
    await b1.p.kill();
    stop = true;
    await producing;
    producer.destroy();
    consumer.destroy();
    expect(receipted.size).toBeGreaterThan(300);

    const b2 = await startBroker(store);
    const after = await drainAll(b2.url, '/queue/crash');
    const afterIds = after.map((m) => Number(m.text));
    // Nothing twice after the restart, nor twice before it.
    expect(new Set(afterIds).size).toBe(afterIds.length);
    expect([...deliveredBefore.values()].every((count) => count === 1)).toBe(true);
    // Every receipted message is there, unless it was acked (an ack whose receipt the crash swallowed may or may not have been applied).
    for (const n of receipted) if (!ackSent.has(n)) expect(afterIds, `receipted ${n}`).toContain(n);
    // A confirmed ack is never undone.
    for (const n of afterIds) expect(ackConfirmed.has(n), `acked ${n} came back`).toBe(false);
    // Delivered before the crash and never acked: back, marked redelivered.
    const unacked = [...deliveredBefore.keys()].filter(neverAcked);
    expect(unacked.length).toBeGreaterThan(5);
    for (const m of after) if (neverAcked(Number(m.text)) && deliveredBefore.has(Number(m.text))) expect(m.redelivered, `message ${m.text}`).toBe(true);
    for (const n of unacked) expect(afterIds).toContain(n);
    expect(b2.p.logs.some((l) => /^Recovery replayed \d+ operations from the journal in [\d.]+ seconds\.$/.test(l.msg))).toBe(true);
  });

  it('makes a transaction all or nothing: sends and acks, whatever moment kill -9 hits', async () => {
    const store = storeDir();
    const b1 = await startBroker(store);
    const loader = await StompClient.connect(b1.url);
    for (let i = 0; i < 300; i++) await loader.sendWithReceipt('/queue/tx-in', `in-${i}`, { persistent: 'true' });
    loader.destroy();
    const producer = await StompClient.connect(b1.url);
    const consumer = await StompClient.connect(b1.url);
    const committedSends = new Set<number>();
    const ackBatches: string[][] = [];
    const committedAcks = new Set<number>();
    let stop = false;
    const sending = (async () => {
      for (let t = 0; !stop; t++) {
        try {
          const tx = await producer.begin(`send-${t}`);
          for (let i = 0; i < 5; i++) producer.send('/queue/tx-out', `${t}-${i}`, { persistent: 'true', transaction: tx });
          await producer.commit(tx);
          committedSends.add(t);
        } catch {
          return;
        }
      }
    })();
    // The consumer acks in transactions of 5 messages.
    let batch: ReceivedMessage[] = [];
    let txSeq = 0;
    await consumer.subscribe('/queue/tx-in', (m) => {
      batch.push(m);
      if (batch.length < 5) return;
      const full = batch;
      batch = [];
      const b = ackBatches.push(full.map((x) => x.text)) - 1;
      const tx = `ack-${txSeq++}`;
      consumer
        .begin(tx)
        .then(() => {
          for (const x of full) consumer.ack(x, tx);
          return consumer.commit(tx);
        })
        .then(() => committedAcks.add(b), () => undefined);
    }, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '20' } });
    await eventually(() => committedSends.size > 20 && committedAcks.size > 5, 20_000, 'transactions under way');
    await sleep(Math.random() * 200);
    await b1.p.kill();
    stop = true;
    await sending;
    producer.destroy();
    consumer.destroy();

    const b2 = await startBroker(store);
    const out = await drainAll(b2.url, '/queue/tx-out');
    const byTx = new Map<number, number>();
    for (const m of out) {
      const t = Number(m.text.split('-')[0]);
      byTx.set(t, (byTx.get(t) ?? 0) + 1);
    }
    for (const [t, count] of byTx) expect(count, `transaction send-${t}`).toBe(5);
    for (const t of committedSends) expect(byTx.get(t), `committed send-${t}`).toBe(5);
    const left = new Set((await drainAll(b2.url, '/queue/tx-in')).map((m) => m.text));
    ackBatches.forEach((b, i) => {
      const remaining = b.filter((text) => left.has(text)).length;
      expect([0, 5], `ack batch ${i}`).toContain(remaining);
      if (committedAcks.has(i)) expect(remaining, `committed ack batch ${i}`).toBe(0);
    });
  });

  it('gives the same messages after a restart with and without the checkpoint', async () => {
    for (const withCheckpoint of [true, false]) {
      const store = storeDir();
      const b1 = await startBroker(store);
      const c = await StompClient.connect(b1.url);
      for (let i = 0; i < 200; i++) await c.sendWithReceipt('/queue/cp', String(i), { persistent: 'true' });
      const consumer = await StompClient.connect(b1.url);
      let n = 0;
      await consumer.subscribe('/queue/cp', (m) => {
        if (n++ < 50) consumer.ack(m);
      }, { ack: 'client-individual', headers: { 'activemq.prefetchSize': '50' } });
      await eventually(() => n >= 50);
      await consumer.disconnect();
      c.destroy();
      b1.p.signal('SIGTERM');
      expect(await b1.p.waitExit()).toBe(0);
      expect(existsSync(join(store, 'db.data'))).toBe(true);
      if (!withCheckpoint) rmSync(join(store, 'db.data'));
      const b2 = await startBroker(store);
      const left = (await drainAll(b2.url, '/queue/cp')).map((m) => Number(m.text)).sort((a, b) => a - b);
      expect(left, withCheckpoint ? 'with checkpoint' : 'without checkpoint').toEqual(Array.from({ length: 150 }, (_, i) => i + 50));
      await b2.p.kill();
    }
  });

  it('keeps a durable topic subscription and its messages while the subscriber is away, across restarts', async () => {
    const store = storeDir();
    const b1 = await startBroker(store);
    const sub1 = await StompClient.connect(b1.url, { connectHeaders: { 'client-id': 'reader' } });
    const got: string[] = [];
    const s = await sub1.subscribe('/topic/news', (m) => got.push(m.text), { headers: { 'activemq.subscriptionName': 'daily' } });
    const pub = await StompClient.connect(b1.url);
    await pub.sendWithReceipt('/topic/news', 'while online', { persistent: 'true' });
    await eventually(() => got.length === 1);
    await s.unsubscribe().catch(() => undefined);
    await sub1.disconnect();
    for (let i = 0; i < 5; i++) await pub.sendWithReceipt('/topic/news', `offline ${i}`, { persistent: 'true' });
    pub.destroy();
    await b1.p.kill();
    const b2 = await startBroker(store);
    const sub2 = await StompClient.connect(b2.url, { connectHeaders: { 'client-id': 'reader' } });
    const later: string[] = [];
    await sub2.subscribe('/topic/news', (m) => later.push(m.text), { headers: { 'activemq.subscriptionName': 'daily' } });
    await eventually(() => later.length === 5);
    expect(later).toEqual([0, 1, 2, 3, 4].map((i) => `offline ${i}`));
    // UNSUBSCRIBE with the subscription name removes it for good: what is published next is kept for nobody.
    await sub2.request('UNSUBSCRIBE', { id: 'sub-1', 'activemq.subscriptionName': 'daily' });
    await sub2.disconnect();
    const pub2 = await StompClient.connect(b2.url);
    await pub2.sendWithReceipt('/topic/news', 'after removal', { persistent: 'true' });
    pub2.destroy();
    b2.p.signal('SIGTERM');
    await b2.p.waitExit();
    const b3 = await startBroker(store);
    const sub3 = await StompClient.connect(b3.url, { connectHeaders: { 'client-id': 'reader' } });
    const fresh: string[] = [];
    await sub3.subscribe('/topic/news', (m) => fresh.push(m.text), { headers: { 'activemq.subscriptionName': 'daily' } });
    await sleep(300);
    expect(fresh).toEqual([]);
    await sub3.disconnect();
    await b3.p.kill();
  });
});

/**
 * Duplicates across master failovers, in the combined topology: a hub pair
 * (one store) and two edges with `masterslave:` connectors to it, a consumer
 * on each edge, and a producer with a failover: URI that sends persistent
 * messages with receipts and re-sends any whose receipt a failover took
 * (at 20 msg/s, as ActiveMQ was measured, or flat out). The
 * master is killed (-9) and restarted as the slave, again and again, while
 * messages flow. Every body must reach the consumers exactly once: a
 * duplicate is a body that arrived twice.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { StompClient } from '../src/client/index.js';
import { type BrokerTarget, freePort, startAmqSim } from './targets.js';

export interface DuplicateResult {
  kills: number;
  /** Messages per second the producer aims at; 0: as fast as receipts come. */
  rate: number;
  /** The producer used `_AMQ_DUPL_ID` (amq-sim's idempotent re-send). */
  duplicateIds: boolean;
  sent: number;
  resent: number;
  received: number;
  duplicates: number;
  missing: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function failoverDuplicates(work: string, kills: number, duplicateIds: boolean, rate: number): Promise<DuplicateResult> {
  const store = join(work, `dup-hub-${duplicateIds}-${rate}`);
  rmSync(store, { recursive: true, force: true });
  const ports: [number, number] = [await freePort(), await freePort()];
  const hubs: Array<BrokerTarget | null> = [null, null];
  const startHub = (i: 0 | 1, noWait: boolean) =>
    startAmqSim({ persistent: true, storeDir: store, keepStore: true, lockPoll: 200, port: ports[i], instance: 'broker1', noWait }, ['--journal-disk-sync-strategy', 'always']);
  hubs[0] = await startHub(0, false);
  hubs[1] = await startHub(1, true);
  const link = `masterslave:(stomp://127.0.0.1:${ports[0]},stomp://127.0.0.1:${ports[1]})?duplex=true`;
  const edges = [
    await startAmqSim({ persistent: true, storeDir: join(work, `dup-e2-${duplicateIds}-${rate}`), instance: 'broker2', network: [link] }),
    await startAmqSim({ persistent: true, storeDir: join(work, `dup-e3-${duplicateIds}-${rate}`), instance: 'broker3', network: [link] }),
  ];
  const seen = new Map<string, number>();
  const consumers = await Promise.all(
    edges.map(async (e) => {
      const c = await StompClient.connect(`stomp://127.0.0.1:${e.port}`);
      await c.subscribe('/queue/bench.dup', (m) => {
        seen.set(m.text, (seen.get(m.text) ?? 0) + 1);
        c.ack(m);
      }, { ack: 'client-individual' });
      return c;
    }),
  );
  await sleep(1500);
  const producer = await StompClient.connect(`failover:(stomp://127.0.0.1:${ports[0]},stomp://127.0.0.1:${ports[1]})?randomize=false&initialReconnectDelay=20&maxReconnectDelay=200`);
  let sent = 0;
  let resent = 0;
  let stop = false;
  const sending = (async () => {
    while (!stop) {
      const body = `m${sent}`;
      const headers: Record<string, string> = { persistent: 'true' };
      if (duplicateIds) headers._AMQ_DUPL_ID = body;
      for (let attempt = 0; ; attempt++) {
        try {
          await producer.whenConnected();
          await producer.sendWithReceipt('/queue/bench.dup', body, headers);
          if (attempt > 0) resent++;
          break;
        } catch {
          await sleep(20);
        }
      }
      sent++;
      if (rate > 0) await sleep(1000 / rate);
    }
  })();
  let master = 0;
  for (let k = 0; k < kills; k++) {
    await sleep(1500 + Math.random() * 1000);
    await hubs[master]!.kill();
    hubs[master] = await startHub(master as 0 | 1, true);
    master = 1 - master;
  }
  await sleep(2000);
  stop = true;
  await sending;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && [...seen.keys()].length < sent) await sleep(200);
  await sleep(1000);
  producer.destroy();
  for (const c of consumers) c.destroy();
  for (const b of [...edges, ...hubs]) await b?.kill();
  let duplicates = 0;
  for (const n of seen.values()) if (n > 1) duplicates += n - 1;
  let missing = 0;
  for (let i = 0; i < sent; i++) if (!seen.has(`m${i}`)) missing++;
  return { kills, rate, duplicateIds, sent, resent, received: [...seen.values()].reduce((a, b) => a + b, 0), duplicates, missing };
}

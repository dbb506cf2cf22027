/**
 * A full disk, for real: a small tmpfs mounted by the test (root only). The
 * store limit holds producers before the disk fills; a disk filled behind the
 * broker's back fails only the sends that could not be stored; consumers are
 * served throughout; persistent sends are taken again once there is room; no
 * receipted message is lost.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { StompClient } from '../../src/client/client.js';
import { JournalStore } from '../../src/store/journal-store.js';
import { captureLogger } from '../helpers/log-capture.js';
import { eventually, sleep, startBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/temp-dir.js';

function mountTmpfs(size: string): string | null {
  const dir = join(tempDir('tmpfs'), 'mnt');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return null;
  }
}

const probe = process.getuid?.() === 0 ? mountTmpfs('1m') : null;
if (probe) execFileSync('umount', [probe]);
const why = process.getuid?.() !== 0 ? 'not root: cannot mount a tmpfs' : 'mount -t tmpfs is not allowed here';

const mounts: string[] = [];
const brokers: Broker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.stop();
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
});

function disk(size: string): string {
  const dir = mountTmpfs(size)!;
  mounts.push(dir);
  return dir;
}

async function brokerOn(directory: string, extra: { logger?: ReturnType<typeof captureLogger>['logger']; store?: JournalStore } = {}): Promise<Broker> {
  const b = await startBroker({ persistent: true, store: { directory, journalMaxFileLength: 256 * 1024, cleanupInterval: 1000 } }, extra);
  brokers.push(b);
  return b;
}

/** Fills what is left of a filesystem with one file; returns its path. */
function fillUp(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    /* ENOSPC: full */
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Consumes everything there is now; returns the bodies. */
async function drain(b: Broker, destination: string): Promise<string[]> {
  const c = await StompClient.connect(`stomp://127.0.0.1:${b.port()}`);
  const got: string[] = [];
  await c.subscribe(destination, (m) => got.push(m.text));
  await eventually(() => (b.router.queues.get(`queue://${destination.slice(7)}`)?.size ?? 0) === 0, 20_000, 'the queue drained');
  await sleep(100);
  await c.disconnect();
  return got;
}

describe.skipIf(!probe)(`a full disk (tmpfs mounted by the test; skipped when ${why})`, () => {
  it('holds producers at the store limit before the disk fills, serves consumers, and takes sends again as GC frees segments; nothing receipted is lost', async () => {
    const dir = disk('8m');
    const { logger, lines } = captureLogger('info');
    const broker = await brokerOn(join(dir, 'store'), { logger });
    const receipted = new Set<string>();
    let stop = false;
    const body = 'x'.repeat(1000);
    const producers = await Promise.all(
      [0, 1, 2, 3].map(async (p) => {
        const c = await StompClient.connect(`stomp://127.0.0.1:${broker.port()}`);
        const run = (async () => {
          for (let i = 0; !stop; i++) {
            const id = `p${p}-${i}`;
            await c.sendWithReceipt('/queue/full', `${id}:${body}`, { persistent: 'true' });
            receipted.add(id);
          }
        })();
        return { c, run };
      }),
    );
    // 8 MiB of disk, 1 KiB messages: the producers are held well before the disk is full.
    await eventually(() => broker.router.usage.store.isFull(), 30_000, 'the store limit reached');
    const plateau = receipted.size;
    await sleep(1000);
    expect(receipted.size - plateau).toBeLessThan(50);
    expect(plateau).toBeGreaterThan(3000);
    expect(lines.some((l) => l.level === 40 && /Persistent store is Full, 100% of \d+\. Stopping producer \(.+\) to prevent flooding queue:\/\/full\. See http:\/\/activemq\.apache\.org\/producer-flow-control\.html for more info/.test(l.msg))).toBe(true);

    // A consumer is served; its acknowledgements free segments; the producers go on.
    const consumer = await StompClient.connect(`stomp://127.0.0.1:${broker.port()}`);
    const consumed = new Set<string>();
    await consumer.subscribe('/queue/full', (m) => consumed.add(m.text.slice(0, m.text.indexOf(':'))));
    await eventually(() => receipted.size > plateau + 2000, 30_000, 'the producers taken again');
    stop = true;
    await Promise.all(producers.map((p) => p.run));
    await eventually(() => [...receipted].every((id) => consumed.has(id)), 30_000, 'every receipted message consumed');
    await consumer.disconnect();
    for (const p of producers) await p.c.disconnect();
  });

  it('fails only the sends a full disk could not take (ERROR, no RECEIPT), keeps serving, takes sends again when there is room, and loses nothing receipted', async () => {
    const dir = disk('8m');
    const directory = join(dir, 'store');
    const { logger, lines } = captureLogger('info');
    // The disk is measured at start only: it is filled behind the store's back, so the writes meet ENOSPC.
    const store = new JournalStore({ directory, logger, journalMaxFileLength: 256 * 1024, cleanupInterval: 1000, spaceCheckInterval: 3_600_000 });
    const broker = await brokerOn(directory, { logger, store });
    const producer = await StompClient.connect(`stomp://127.0.0.1:${broker.port()}`);
    const receipted: string[] = [];
    for (let i = 0; i < 200; i++) {
      await producer.sendWithReceipt('/queue/enospc', `before-${i}`, { persistent: 'true' });
      receipted.push(`before-${i}`);
    }
    const filler = fillUp(dir);
    const errors: Error[] = [];
    producer.on('error', (err: Error) => errors.push(err));
    const failed = await producer.sendWithReceipt('/queue/enospc', 'x'.repeat(300 * 1024), { persistent: 'true' }).then(
      () => null,
      (err: Error) => err,
    );
    // No RECEIPT: the send fails, with the broker's ERROR (reported as the client's error event) naming the disk.
    expect(failed).not.toBeNull();
    await eventually(() => errors.length > 0, 5000, 'the ERROR frame');
    expect(errors[0].message).toMatch(/^Could not store the message: The store's disk is full, the message was not stored \(.*ENOSPC/);
    expect(lines.filter((l) => l.level === 50 && /The store's disk is full/.test(l.msg))).toHaveLength(1);

    // The broker serves on: the stored messages are consumed.
    expect(await drain(broker, '/queue/enospc')).toEqual(receipted);
    rmSync(filler);
    const again = await StompClient.connect(`stomp://127.0.0.1:${broker.port()}`);
    for (let i = 0; i < 50; i++) {
      await again.sendWithReceipt('/queue/enospc', `after-${i}`, { persistent: 'true' });
      receipted.push(`after-${i}`);
    }
    await again.disconnect();
    await broker.stop();

    const restarted = await brokerOn(directory);
    expect(await drain(restarted, '/queue/enospc')).toEqual(receipted.slice(200));
  });
});

import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subscriptionHolder } from '../../src/store/holders.js';
import { JournalStore } from '../../src/store/journal-store.js';
import { captureLogger } from '../helpers/log-capture.js';
import { idsOf, message, subscription, write } from './contract.js';
import { journalAt } from './journal-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

function dir(): string {
  return tempDir('journal');
}

/** A store with `count` messages on queue://q; `positions` are theirs. */
async function fill(d: string, count: number, extra: Parameters<typeof journalAt>[1] = {}): Promise<JournalStore & { positions: number[] }> {
  const store = Object.assign(journalAt(d, extra), { positions: [] as number[] });
  await store.recover();
  for (let i = 0; i < count; i++) store.positions.push((await write(store, { op: 'add', destination: 'queue://q', message: message(`m${i}`) }))!);
  return store;
}

/** Adds a message and acknowledges it. */
async function addAndRemove(store: JournalStore, destination: string, id: string): Promise<void> {
  const position = await write(store, { op: 'add', destination, message: message(id) });
  await write(store, { op: 'remove', destination, messageId: id, position });
}

function segments(d: string): string[] {
  return readdirSync(d)
    .filter((f) => /^db-\d+\.log$/.test(f))
    .sort((a, b) => Number(a.slice(3, -4)) - Number(b.slice(3, -4)));
}

async function reopen(d: string) {
  const { logger, lines } = captureLogger();
  const store = new JournalStore({ directory: d, logger, checkpointInterval: 0, cleanupInterval: 0 });
  const state = await store.recover();
  return { store, state, lines, ids: await idsOf(store, 'queue://q') };
}

describe('journal damage', () => {
  it('cuts off a torn tail (a partial last record) with a WARN naming the file and offset, keeping every earlier record', async () => {
    const d = dir();
    await fill(d, 10);
    const [seg] = segments(d);
    const size = statSync(join(d, seg)).size;
    truncateSync(join(d, seg), size - 7);
    const { ids, lines } = await reopen(d);
    expect(ids).toEqual(Array.from({ length: 9 }, (_, i) => `m${i}`));
    const warn = lines.find((l) => l.level === 40 && l.msg.includes('damaged tail'))!;
    expect(warn.msg).toContain(`'${seg}'`);
    expect(warn.msg).toMatch(/at offset \d+ \(\d+ bytes, partial record\)/);
    // The file is cut, so the next recovery is quiet.
    expect(statSync(join(d, seg)).size).toBeLessThan(size - 7);
    const again = await reopen(d);
    expect(again.lines.some((l) => l.level === 40)).toBe(false);
    expect(again.ids).toHaveLength(9);
  });

  it('cuts off a tail whose checksum does not match', async () => {
    const d = dir();
    await fill(d, 5);
    const [seg] = segments(d);
    const buf = readFileSync(join(d, seg));
    buf[buf.length - 3] ^= 0xff;
    writeFileSync(join(d, seg), buf);
    const { ids, lines } = await reopen(d);
    expect(ids).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(lines.some((l) => l.msg.includes('checksum mismatch'))).toBe(true);
  });

  it('cuts off a zero-filled tail', async () => {
    const d = dir();
    await fill(d, 5);
    const [seg] = segments(d);
    appendFileSync(join(d, seg), Buffer.alloc(4096));
    const { ids, lines } = await reopen(d);
    expect(ids).toHaveLength(5);
    expect(lines.some((l) => l.msg.includes('zero-filled tail'))).toBe(true);
  });

  it('skips a corrupt record in the middle with ActiveMQ\'s WARN and keeps the rest', async () => {
    const d = dir();
    await fill(d, 10);
    const [seg] = segments(d);
    const buf = readFileSync(join(d, seg));
    const at = buf.indexOf(Buffer.from('body of m4'));
    buf[at + 2] ^= 0x55;
    writeFileSync(join(d, seg), buf);
    const { ids, lines } = await reopen(d);
    expect(ids).toEqual(['m0', 'm1', 'm2', 'm3', 'm5', 'm6', 'm7', 'm8', 'm9']);
    const warn = lines.find((l) => l.msg.startsWith('Corrupt journal records found'))!;
    expect(warn.msg).toMatch(new RegExp(`^Corrupt journal records found in '${seg}' between offsets: \\d+\\.\\.\\d+$`));
    expect(warn.level).toBe(40);
  });

  it('rebuilds the same state from the journal when the checkpoint is damaged', async () => {
    const d = dir();
    const store = await fill(d, 6);
    await write(store, { op: 'remove', destination: 'queue://q', messageId: 'm2', position: store.positions[2] });
    await store.close();
    const cp = readFileSync(join(d, 'db.data'));
    cp[10] ^= 0xff;
    writeFileSync(join(d, 'db.data'), cp);
    const { ids, lines } = await reopen(d);
    expect(ids).toEqual(['m0', 'm1', 'm3', 'm4', 'm5']);
    expect(lines.some((l) => l.msg === 'Index corrupted. Recovering the index through journal replay.')).toBe(true);
  });
});

describe('journal segments, checkpoints and GC', () => {
  it('rolls segments at journalMaxFileLength and recovers across them', async () => {
    const d = dir();
    const store = await fill(d, 200, { journalMaxFileLength: 4096 });
    await store.close();
    expect(segments(d).length).toBeGreaterThan(5);
    for (const s of segments(d)) expect(statSync(join(d, s)).size).toBeLessThanOrEqual(4096);
    const { ids } = await reopen(d);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
  });

  it('deletes segments nothing needs, keeping one that holds a pending message and the acks that refer to it', async () => {
    const d = dir();
    const store = journalAt(d, { journalMaxFileLength: 4096 });
    await store.recover();
    const old = await write(store, { op: 'add', destination: 'queue://q', message: message('old') });
    for (let i = 0; i < 300; i++) await addAndRemove(store, 'queue://q', `m${i}`);
    const before = segments(d);
    const removed = await store.cleanup();
    const after = segments(d);
    expect(removed.length).toBeGreaterThanOrEqual(before.length - 3);
    expect(after.length).toBeLessThanOrEqual(3);
    // The segment with the pending message survives.
    expect(after[0]).toBe(before[0]);
    // Once it is acked, a later cleanup frees it too.
    await write(store, { op: 'remove', destination: 'queue://q', messageId: 'old', position: old });
    for (let i = 0; i < 40; i++) await write(store, { op: 'add-destination', destination: `queue://filler${i}` });
    await store.cleanup();
    expect(segments(d)).not.toContain(before[0]);
    await store.close();
    const { ids } = await reopen(d);
    expect(ids).toEqual([]);
  });

  it('rewrites forward the destination and subscription records that alone keep an old segment', async () => {
    const d = dir();
    const store = journalAt(d, { journalMaxFileLength: 4096 });
    await store.recover();
    await write(store, { op: 'add-destination', destination: 'queue://q' });
    await write(store, { op: 'add-subscription', subscription: subscription('s1') });
    for (let i = 0; i < 200; i++) await addAndRemove(store, 'queue://q', `m${i}`);
    const first = segments(d)[0];
    await store.cleanup();
    await store.cleanup();
    expect(segments(d)).not.toContain(first);
    await store.close();
    rmCheckpoint(d);
    const { state } = await reopen(d);
    expect(state.destinations).toContain('queue://q');
    expect(state.subscriptions.map((s) => s.record.id)).toEqual(['s1']);
  });

  it('gives the same state from the checkpoint and from a full replay, after GC', async () => {
    const d = dir();
    const store = journalAt(d, { journalMaxFileLength: 8192 });
    await store.recover();
    await write(store, { op: 'add-subscription', subscription: subscription('s1') });
    for (let i = 0; i < 400; i++) {
      const position = await write(store, { op: 'add', destination: `queue://q${i % 3}`, message: message(`m${i}`) });
      if (i % 5 !== 0) await write(store, { op: 'remove', destination: `queue://q${i % 3}`, messageId: `m${i}`, position });
      if (i % 7 === 0) await write(store, { op: 'add', destination: 'topic://news', message: message(`t${i}`), subscriptions: ['s1'] });
    }
    await store.cleanup();
    await store.close();
    const summary = async ({ store, state }: Awaited<ReturnType<typeof reopen>>) => ({
      queues: (await Promise.all([...state.queues.keys()].map(async (k) => [k, await idsOf(store, k)] as const))).sort(),
      subs: await Promise.all(state.subscriptions.map(async (x) => [x.record.id, await idsOf(store, subscriptionHolder(x.record.id))])),
    });
    const withCheckpoint = await reopen(d);
    const fromCheckpoint = await summary(withCheckpoint);
    await withCheckpoint.store.close();
    rmCheckpoint(d);
    const replayed = await reopen(d);
    expect(await summary(replayed)).toEqual(fromCheckpoint);
    expect((fromCheckpoint.queues.find(([k]) => k === 'queue://q0')![1] as string[]).length).toBeGreaterThan(20);
    expect(replayed.state.operations).toBeGreaterThan(withCheckpoint.state.operations);
  });

  it('ignores what a fenced master appended after a new master took over', async () => {
    const d = dir();
    const zombie = journalAt(d);
    await zombie.recover();
    await write(zombie, { op: 'add', destination: 'queue://q', message: message('before') });
    // A new master opens the store (the zombie was frozen and lost its lock).
    const master = journalAt(d);
    await master.recover();
    await write(master, { op: 'add', destination: 'queue://q', message: message('from-master') });
    // The zombie wakes up and writes to its old segment.
    await write(zombie, { op: 'add', destination: 'queue://q', message: message('from-zombie') });
    await master.close();
    const fromCheckpoint = await reopen(d);
    expect(fromCheckpoint.ids).toEqual(['before', 'from-master']);
    await fromCheckpoint.store.close();
    rmCheckpoint(d);
    const { ids, lines } = await reopen(d);
    expect(ids).toEqual(['before', 'from-master']);
    expect(lines.some((l) => l.level === 40 && /by a master that had lost the lock/.test(l.msg))).toBe(true);
  });
});

function rmCheckpoint(d: string): void {
  try {
    writeFileSync(join(d, 'db.data'), '');
  } catch {
    /* none */
  }
}

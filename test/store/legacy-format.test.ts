import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subscriptionHolder } from '../../src/store/holders.js';
import { pendingOf, write } from './contract.js';
import { journalAt } from './journal-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Stores written by amq-sim before positions (journal format 1): removes and
 * dispatch marks name messages by id. `store-format-1` was made by the broker
 * of commit 61aae79 (checkpoint format 1), `store-duplicate-ids` by that of
 * 1ba0341 (checkpoint format 2, with duplicate-detection ids). They open as
 * they were, and take new writes.
 */
const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const DUPLICATE_IDS = Array.from({ length: 10 }, (_, i) => `dup-${i}`);

describe.each([
  ['store-format-1', 'closed', undefined],
  ['store-format-1', 'crashed', undefined],
  ['store-duplicate-ids', 'closed', DUPLICATE_IDS],
  ['store-duplicate-ids', 'crashed', DUPLICATE_IDS],
])('a store written before positions (%s, %s)', (fixture, state, duplicateIds) => {
  it('recovers its queue (with dispatch marks), durable subscription and duplicate ids, and takes new removes', async () => {
    const directory = tempDir('legacy');
    cpSync(join(FIXTURES, fixture, state), directory, { recursive: true });
    const store = journalAt(directory);
    const recovered = await store.recover();
    expect(recovered.queues.get('queue://legacy')).toBe(9);
    expect(recovered.duplicateIds.get('queue://legacy')).toEqual(duplicateIds);
    const queue = await pendingOf(store, 'queue://legacy');
    expect(queue.map((p) => p.message.id)).toEqual(['m0', 'm1', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(queue.find((p) => p.message.id === 'm3')!.message).toMatchObject({ redeliveryCounter: 1, dispatchedTo: 'edge' });
    expect(queue[0].message.body.toString()).toBe('body of m0');
    expect(recovered.subscriptions.map((s) => [s.record.key, s.pending])).toEqual([['c:s', 1]]);
    expect((await pendingOf(store, subscriptionHolder('d1'))).map((p) => p.message.id)).toEqual(['t2']);

    await write(store, { op: 'remove', destination: 'queue://legacy', messageId: 'm0', position: queue[0].position });
    await store.close();
    const again = journalAt(directory);
    await again.recover();
    expect((await pendingOf(again, 'queue://legacy')).map((p) => p.message.id)).toEqual(['m1', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    await again.close();
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/broker.js';
import { tempDir } from '../helpers/temp-dir.js';
import { idsOf, message, write } from './contract.js';
import { journalAt } from './journal-helpers.js';

describe('checkpoints by volume', () => {
  it('writes a checkpoint once checkpointAfterBytes of journal came after the last, so a crash replays only what followed it', async () => {
    const dir = tempDir('checkpoint-volume');
    const store = journalAt(dir, { checkpointAfterBytes: 64 * 1024 });
    await store.recover();
    const body = Buffer.alloc(1024, 0x61);
    for (let i = 0; i < 200; i++) await write(store, { op: 'add', destination: 'queue://q', message: message(`m${i}`, { body }) });
    // No interval timer runs (checkpointInterval 0): only the volume can have written it.
    await eventually(() => existsSync(join(dir, 'db.data')), 3000, 'a checkpoint by volume');
    // A crash: the store is not closed, a new one recovers the directory.
    const again = journalAt(dir);
    const state = await again.recover();
    expect(state.operations).toBeLessThan(200);
    expect(state.queues.get('queue://q')).toBe(200);
    expect((await idsOf(again, 'queue://q')).length).toBe(200);
    await again.close();
  });
});

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { storeContract } from './contract.js';
import { journalAt } from './journal-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A journal store, and how the contract reopens it: closed, then `beforeReopen` on its directory. */
function closedAndReopened(beforeReopen: (dir: string) => void = () => {}) {
  return async () => {
    const dir = tempDir('journal');
    const store = journalAt(dir);
    return {
      store,
      reopen: async () => {
        await store.close();
        beforeReopen(dir);
        return journalAt(dir);
      },
    };
  };
}

storeContract('JournalStore', closedAndReopened());

storeContract('JournalStore, replaying the whole journal (no checkpoint)', closedAndReopened((dir) => rmSync(join(dir, 'db.data'))));

storeContract('JournalStore, after a crash (not closed)', async () => {
  const dir = tempDir('journal');
  const store = journalAt(dir);
  return { store, reopen: async () => journalAt(dir) };
});

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { storeContract } from './contract.js';
import { journalAt } from './journal-helpers.js';
import { tempDir } from '../helpers/temp-dir.js';

storeContract('JournalStore', async () => {
  const dir = tempDir('journal');
  const store = journalAt(dir);
  return {
    store,
    reopen: async () => {
      await store.close();
      return journalAt(dir);
    },
  };
});

storeContract('JournalStore, replaying the whole journal (no checkpoint)', async () => {
  const dir = tempDir('journal');
  const store = journalAt(dir);
  return {
    store,
    reopen: async () => {
      await store.close();
      rmSync(join(dir, 'db.data'));
      return journalAt(dir);
    },
  };
});

storeContract('JournalStore, after a crash (not closed)', async () => {
  const dir = tempDir('journal');
  const store = journalAt(dir);
  return { store, reopen: async () => journalAt(dir) };
});

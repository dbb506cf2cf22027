import { MemoryStore } from '../../src/store/memory-store.js';
import { storeContract } from './contract.js';

storeContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, reopen: async () => store };
});

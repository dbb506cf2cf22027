import { silentLogger } from '../../src/config/logger.js';
import { JournalStore, type JournalStoreOptions } from '../../src/store/journal-store.js';

/** A journal store in `directory` with timers off (tests call cleanup and close themselves). */
export function journalAt(directory: string, extra: Partial<JournalStoreOptions> = {}): JournalStore {
  return new JournalStore({ directory, logger: silentLogger(), checkpointInterval: 0, cleanupInterval: 0, ...extra });
}

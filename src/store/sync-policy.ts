import { constants } from 'node:fs';

/** KahaDB's `journalDiskSyncStrategy` values. */
export const SYNC_STRATEGIES = ['always', 'periodic', 'never'] as const;
export type SyncStrategy = (typeof SYNC_STRATEGIES)[number];

/**
 * What a sync strategy asks of the journal, in one place:
 * - always: segments are opened O_DSYNC, so a write returns once the data is on disk;
 * - periodic: writes go to the OS, an fdatasync runs every `journalDiskSyncInterval`
 *   when something was written, and when a segment is left or closed;
 * - never: the OS decides.
 */
export interface SyncPolicy {
  readonly strategy: SyncStrategy;
  /** Flags added when a segment is opened for writing. */
  readonly openFlags: number;
  /** A completed write may still be only in the OS's cache. */
  readonly writesNeedSync: boolean;
  /** ms between fdatasyncs of what was written; 0 = none. */
  readonly syncEvery: number;
  /** fdatasync a segment when moving to the next one and at close. */
  readonly syncOnLeave: boolean;
}

export function syncPolicy(strategy: SyncStrategy, journalDiskSyncInterval: number): SyncPolicy {
  return {
    strategy,
    openFlags: strategy === 'always' ? constants.O_DSYNC : 0,
    writesNeedSync: strategy !== 'always',
    syncEvery: strategy === 'periodic' ? journalDiskSyncInterval : 0,
    syncOnLeave: strategy === 'periodic',
  };
}

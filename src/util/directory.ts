import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configError } from '../errors.js';

/**
 * Makes sure a store directory exists and can be written, creating what is
 * missing one level at a time, and says plainly why not otherwise (a
 * ConfigError: the broker exits 2). Node's recursive mkdir is not used: on
 * some special filesystems (/proc) it never returns.
 */
export function ensureWritableDirectory(directory: string): void {
  const absolute = resolve(directory);
  const refuse = (reason: string) => configError('CONFIG_STORE_DIRECTORY', directory, reason);
  const missing: string[] = [];
  for (let at = absolute; ; at = dirname(at)) {
    try {
      if (!statSync(at).isDirectory()) throw refuse(`${at} is not a directory`);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === undefined) throw err;
      if (code !== 'ENOENT') throw refuse((err as Error).message);
      if (dirname(at) === at) throw refuse('no part of the path exists');
      missing.unshift(at);
    }
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw refuse((err as Error).message);
    }
  }
  const probe = join(absolute, `.amq-sim-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (err) {
    throw refuse(`it cannot be written: ${(err as Error).message}`);
  }
}

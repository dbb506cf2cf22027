import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory for a test's stores and files, inside the run's directory (test/global-setup.ts removes it). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(process.env.AMQ_SIM_TEST_DIR ?? tmpdir(), `${prefix}-`));
}

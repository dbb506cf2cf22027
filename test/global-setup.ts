import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One directory for every store and file the tests make, removed when the run ends (after every broker they started has stopped). */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'amq-sim-test-'));
  process.env.AMQ_SIM_TEST_DIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}

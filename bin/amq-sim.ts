#!/usr/bin/env node
import { main } from '../src/cli/main.js';

main().catch((err: unknown) => {
  process.stderr.write(`amq-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  // yargs rejects with the bare message when a command's own check fails: a usage error, like the ones main() reports.
  process.exit(err instanceof Error ? 1 : 2);
});

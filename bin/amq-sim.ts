#!/usr/bin/env node
import { main } from '../src/cli/main.js';

main().catch((err: unknown) => {
  process.stderr.write(`amq-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

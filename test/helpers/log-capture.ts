import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/config/logger.js';

/** A real pino logger whose JSON lines are kept for assertions. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

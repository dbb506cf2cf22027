import { readFileSync } from 'node:fs';
import { configError } from '../errors.js';

/** A Java properties file, as far as ActiveMQ's files use it (`key=value` or `key: value`, `#` and `!` comments); unreadable: a config error naming it. */
export function readProperties(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError('CONFIG_FILE', file, (err as Error).message);
  }
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

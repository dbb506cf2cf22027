import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configError } from '../errors.js';

/** Reads a JSON or YAML file into a plain object; any problem becomes a CONFIG_FILE error naming the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw configError('CONFIG_FILE', path, `cannot be read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw configError('CONFIG_FILE', path, `not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw configError('CONFIG_FILE', path, 'must hold an object of settings');
  return parsed as Record<string, unknown>;
}

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { PartialBrokerConfig } from '../config/broker-config.js';
import { configError } from '../errors.js';
import { readActiveMqXml } from './activemq-xml.js';

/** A broker config file: amq-sim's JSON or YAML, or an ActiveMQ activemq.xml (with what it holds that amq-sim ignores). */
export function readBrokerConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): { config: PartialBrokerConfig; ignored: string[] } {
  if (!path.endsWith('.xml')) return { config: readConfigFile(path) as PartialBrokerConfig, ignored: [] };
  return readActiveMqXml(path, readText(path), env);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw configError('CONFIG_FILE', path, `cannot be read: ${(err as Error).message}`);
  }
}

/** Reads a JSON or YAML file into a plain object; any problem becomes a CONFIG_FILE error naming the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  const text = readText(path);
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw configError('CONFIG_FILE', path, `not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw configError('CONFIG_FILE', path, 'must hold an object of settings');
  return parsed as Record<string, unknown>;
}

import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { resolveBrokerConfig } from '../config/broker-config.js';
import { toActiveMqXml } from './activemq-xml-writer.js';
import { readBrokerConfigFile } from './config-file.js';

export interface ConfigArgs {
  action: 'print' | 'to-xml';
  file: string;
  out?: string;
}

/**
 * `amq-sim config print FILE`: the configuration a broker would run with
 * (from activemq.xml, YAML or JSON, defaults filled in), in amq-sim's YAML;
 * `amq-sim config to-xml FILE`: the same as an activemq.xml.
 */
export function runConfig(args: ConfigArgs): void {
  const { config, ignored } = readBrokerConfigFile(args.file);
  const resolved = resolveBrokerConfig(config);
  const text = args.action === 'print' ? (ignored.length > 0 ? `# Ignored (not supported by amq-sim): ${ignored.join(', ')}\n` : '') + stringify(resolved) : toActiveMqXml(resolved);
  if (args.out) writeFileSync(args.out, text);
  else process.stdout.write(text);
}

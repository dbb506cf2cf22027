import type { Argv } from 'yargs';
import { Broker } from '../broker/broker.js';
import { type BrokerConfig, ConfigError, type PartialBrokerConfig, resolveBrokerConfig } from '../config/broker-config.js';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from '../config/logger.js';
import { readConfigFile } from './config-file.js';

export interface BrokerArgs {
  name?: string;
  stomp?: string[];
  store?: string;
  persistent?: boolean;
  'journal-disk-sync-strategy'?: 'always' | 'periodic' | 'never';
  'journal-max-file-length'?: number;
  config?: string;
  'log-level': LogLevel;
  'log-format'?: LogFormat;
}

export function brokerOptions(y: Argv): Argv<BrokerArgs> {
  return y
    .option('name', { type: 'string', describe: "Broker name (ActiveMQ brokerName) [default: 'localhost']" })
    .option('stomp', {
      type: 'string',
      array: true,
      describe:
        'Transport connector URI, repeatable: stomp://HOST:PORT or ws://HOST:PORT, with ActiveMQ options such as ?maximumConnections=1000&wireFormat.maxFrameSize=104857600&transport.hbGracePeriodMultiplier=1.5 [default: stomp://0.0.0.0:61613 and ws://0.0.0.0:61614]',
    })
    .option('store', { type: 'string', describe: 'Store directory (KahaDB directory) [default: ./kahadb]' })
    .option('persistent', { type: 'boolean', describe: 'Keep persistent messages in the store; --no-persistent keeps everything in memory [default: true]' })
    .option('journal-disk-sync-strategy', {
      choices: ['always', 'periodic', 'never'] as const,
      describe: 'KahaDB journalDiskSyncStrategy: fsync before each receipt (always), every journalDiskSyncInterval (periodic), or never [default: always]',
    })
    .option('journal-max-file-length', { type: 'number', describe: 'KahaDB journalMaxFileLength in bytes: journal segments roll over at this size [default: 33554432]' })
    .option('config', { type: 'string', describe: 'JSON or YAML file with broker settings; flags override it' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level' })
    .option('log-format', { choices: ['json', 'pretty'] as const, describe: 'Log format [default: pretty on a terminal, json otherwise]' }) as unknown as Argv<BrokerArgs>;
}

/** Builds the broker config from a config file (if any) and the flags, which win. */
export function configFromArgs(args: BrokerArgs): PartialBrokerConfig[] {
  const layers: PartialBrokerConfig[] = [];
  if (args.config) layers.push(readConfigFile(args.config) as PartialBrokerConfig);
  const flags: PartialBrokerConfig = {};
  if (args.name !== undefined) flags.brokerName = args.name;
  if (args.stomp !== undefined) flags.transportConnectors = args.stomp;
  if (args.persistent !== undefined) flags.persistent = args.persistent;
  const store: Partial<BrokerConfig['store']> = {};
  if (args.store !== undefined) store.directory = args.store;
  if (args['journal-disk-sync-strategy'] !== undefined) store.journalDiskSyncStrategy = args['journal-disk-sync-strategy'];
  if (args['journal-max-file-length'] !== undefined) store.journalMaxFileLength = args['journal-max-file-length'];
  if (Object.keys(store).length > 0) flags.store = store;
  layers.push(flags);
  return layers;
}

export async function runBroker(args: BrokerArgs): Promise<void> {
  const logger = createLogger({ level: args['log-level'], format: args['log-format'] });
  // Signals are handled from the start: one that arrives while starting stops the broker once it is up.
  let signalled: string | null = null;
  let broker: Broker | null = null;
  const stop = (signal: string) => {
    if (signalled) return;
    signalled = signal;
    logger.info({ signal }, `Received ${signal}, stopping`);
    if (broker) shutdown(broker);
  };
  const shutdown = (b: Broker) =>
    b.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'Error while stopping');
        process.exit(1);
      },
    );
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    const config = resolveBrokerConfig(...configFromArgs(args));
    broker = await Broker.start(config, { logger, onFatal: () => process.exit(1) });
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, `Failed to start broker: ${(err as Error).message}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  if (signalled) shutdown(broker);
}

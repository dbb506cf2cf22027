import type { Argv } from 'yargs';
import type { Broker } from '../broker/broker.js';
import { createBroker } from '../index.js';
import { type BrokerConfig, DEFAULT_BROKER_CONFIG as d, type PartialBrokerConfig, resolveBrokerConfig } from '../config/broker-config.js';
import { formatSize } from '../config/size.js';
import { numberOption, sizeOption, withDefault } from './options.js';
import { ConfigError, isLockWaitAborted } from '../errors.js';
import { SYNC_STRATEGIES, type SyncStrategy } from '../store/sync-policy.js';
import { createLogger, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from '../config/logger.js';
import { readBrokerConfigFile } from './config-file.js';

export interface BrokerArgs {
  name?: string;
  stomp?: string[];
  store?: string;
  persistent?: boolean;
  'scheduler-support'?: boolean;
  'journal-disk-sync-strategy'?: SyncStrategy;
  'journal-max-file-length'?: number;
  'lock-poll'?: number;
  network?: string[];
  admin?: string;
  'admin-user'?: string;
  'activemq-base'?: string;
  'activemq-conf'?: string;
  'activemq-data'?: string;
  'fail-if-locked'?: boolean;
  'memory-limit'?: number;
  'store-limit'?: number;
  'temp-limit'?: number;
  config?: string;
  'log-level': LogLevel;
  'log-format'?: LogFormat;
}

export function brokerOptions(y: Argv): Argv<BrokerArgs> {
  return y
    .option('name', { type: 'string', describe: withDefault('Broker name (ActiveMQ brokerName)', d.brokerName) })
    .option('stomp', {
      type: 'string',
      array: true,
      describe:
        withDefault('Transport connector URI, repeatable: stomp://HOST:PORT or ws://HOST:PORT, with ActiveMQ options such as ?maximumConnections=1000&wireFormat.maxFrameSize=104857600&transport.hbGracePeriodMultiplier=1.5', d.transportConnectors.join(' and ')),
    })
    .option('store', { type: 'string', describe: withDefault('Store directory (KahaDB directory)', d.store.directory) })
    .option('persistent', { type: 'boolean', describe: withDefault('Keep persistent messages in the store; --no-persistent keeps everything in memory', d.persistent) })
    .option('journal-disk-sync-strategy', {
      choices: SYNC_STRATEGIES,
      describe: withDefault('KahaDB journalDiskSyncStrategy: fsync before each receipt (always), every journalDiskSyncInterval (periodic), or never', d.store.journalDiskSyncStrategy),
    })
    .option('journal-max-file-length', numberOption('journal-max-file-length', withDefault('KahaDB journalMaxFileLength in bytes: journal segments roll over at this size', d.store.journalMaxFileLength), { min: 1024, integer: true }))
    .option('memory-limit', sizeOption('memory-limit', withDefault('ActiveMQ systemUsage memoryUsage limit: messages held in memory; past it, producers wait (producer flow control)', formatSize(d.systemUsage.memoryUsage.limit))))
    .option('store-limit', sizeOption('store-limit', withDefault("ActiveMQ systemUsage storeUsage limit: the store's files; past it (or when the disk is nearly full), producers of persistent messages wait", formatSize(d.systemUsage.storeUsage.limit))))
    .option('temp-limit', sizeOption('temp-limit', withDefault('ActiveMQ systemUsage tempUsage limit: non-persistent messages spilled to disk by destinations without producer flow control', formatSize(d.systemUsage.tempUsage.limit))))
    .option('lock-poll', numberOption('lock-poll', withDefault('ActiveMQ lockAcquireSleepInterval: how often a slave tries the store lock, in ms', d.locker.lockAcquireSleepInterval), { min: 100, integer: true }))
    .option('fail-if-locked', { type: 'boolean', describe: withDefault('ActiveMQ failIfLocked: exit at once if another broker holds the store lock, instead of waiting as a slave', d.locker.failIfLocked) })
    .option('network', {
      type: 'string',
      array: true,
      describe:
        "Network connector URI, repeatable (ActiveMQ's forms and options): 'static:(stomp://hub:61611)?duplex=true&networkTTL=2', 'masterslave:(stomp://a:61611,stomp://b:61611)', 'static:(failover:(stomp://a:61611,stomp://b:61611))'",
    })
    .option('scheduler-support', { type: 'boolean', describe: withDefault('ActiveMQ schedulerSupport: messages with AMQ_SCHEDULED_DELAY, _PERIOD, _REPEAT or _CRON headers are delivered later; jobs are kept in the store', d.schedulerSupport) })
    .option('admin', { type: 'string', describe: 'Admin endpoint for `amq-sim status` and `amq-sim bridge`, e.g. http://127.0.0.1:8161 [default: none]' })
    .option('activemq-base', { type: 'string', describe: 'For an activemq.xml --config: ${activemq.base} (as ACTIVEMQ_BASE) [default: the folder above its conf/, or its own]' })
    .option('activemq-conf', { type: 'string', describe: 'For an activemq.xml --config: ${activemq.conf} (as ACTIVEMQ_CONF) [default: <base>/conf]' })
    .option('activemq-data', { type: 'string', describe: 'For an activemq.xml --config: ${activemq.data} (as ACTIVEMQ_DATA) [default: <base>/data]' })
    .option('admin-user', { type: 'string', describe: 'User name the admin endpoint asks for (HTTP Basic), its password from AMQ_SIM_ADMIN_PASSWORD; required when --admin is not on loopback [default: none, or AMQ_SIM_ADMIN_USER]' })
    .option('config', { type: 'string', describe: 'JSON or YAML file with broker settings, or an ActiveMQ activemq.xml (ACTIVEMQ_BASE, ACTIVEMQ_CONF, ACTIVEMQ_DATA as its start script sets them); the environment (AMQ_SIM_ADMIN_USER, AMQ_SIM_ADMIN_PASSWORD, AMQ_SIM_BRIDGE_SECRET) overrides it, flags override both' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level' })
    .option('log-format', { choices: ['json', 'pretty'] as const, describe: 'Log format [default: pretty on a terminal, json otherwise]' }) as unknown as Argv<BrokerArgs>;
}

/** Builds the broker config from a config file (if any) and the flags, which win. */
function configFromArgs(args: BrokerArgs, logger: Logger): PartialBrokerConfig[] {
  const layers: PartialBrokerConfig[] = [];
  if (args.config) {
    const directories = { ACTIVEMQ_BASE: args['activemq-base'], ACTIVEMQ_CONF: args['activemq-conf'], ACTIVEMQ_DATA: args['activemq-data'] };
    const file = readBrokerConfigFile(args.config, { ...process.env, ...Object.fromEntries(Object.entries(directories).filter(([, v]) => v !== undefined)) });
    if (file.ignored.length > 0) logger.warn({ file: args.config, ignored: file.ignored }, `Not supported by amq-sim, ignored: ${file.ignored.join(', ')}`);
    layers.push(file.config);
  }
  layers.push(environmentLayer(process.env));
  const flags: PartialBrokerConfig = {};
  if (args.name !== undefined) flags.brokerName = args.name;
  if (args.stomp !== undefined) flags.transportConnectors = args.stomp;
  if (args.persistent !== undefined) flags.persistent = args.persistent;
  const store: Partial<BrokerConfig['store']> = {};
  if (args.store !== undefined) store.directory = args.store;
  if (args['journal-disk-sync-strategy'] !== undefined) store.journalDiskSyncStrategy = args['journal-disk-sync-strategy'];
  if (args['journal-max-file-length'] !== undefined) store.journalMaxFileLength = args['journal-max-file-length'];
  if (Object.keys(store).length > 0) flags.store = store;
  const locker: Partial<BrokerConfig['locker']> = {};
  if (args['lock-poll'] !== undefined) locker.lockAcquireSleepInterval = args['lock-poll'];
  if (args['fail-if-locked'] !== undefined) locker.failIfLocked = args['fail-if-locked'];
  if (Object.keys(locker).length > 0) flags.locker = locker;
  const usage: Partial<BrokerConfig['systemUsage']> = {};
  if (args['memory-limit'] !== undefined) usage.memoryUsage = { limit: args['memory-limit'] };
  if (args['store-limit'] !== undefined) usage.storeUsage = { limit: args['store-limit'] };
  if (args['temp-limit'] !== undefined) usage.tempUsage = { limit: args['temp-limit'] };
  if (Object.keys(usage).length > 0) flags.systemUsage = usage;
  if (args.network !== undefined) flags.networkConnectors = args.network;
  if (args['scheduler-support'] !== undefined) flags.schedulerSupport = args['scheduler-support'];
  if (args.admin !== undefined) flags.admin = args.admin;
  if (args['admin-user'] !== undefined) flags.adminUser = args['admin-user'];
  layers.push(flags);
  return layers;
}

/** Secrets are best not on a command line, where `ps` shows them: these come from the environment. */
function environmentLayer(env: NodeJS.ProcessEnv): PartialBrokerConfig {
  const layer: PartialBrokerConfig = {};
  if (env.AMQ_SIM_ADMIN_USER) layer.adminUser = env.AMQ_SIM_ADMIN_USER;
  if (env.AMQ_SIM_ADMIN_PASSWORD) layer.adminPassword = env.AMQ_SIM_ADMIN_PASSWORD;
  if (env.AMQ_SIM_BRIDGE_SECRET) layer.bridgeAuthentication = { secret: env.AMQ_SIM_BRIDGE_SECRET };
  return layer;
}

/** How long a signalled broker may take to stop before the process exits anyway. */
const FORCED_EXIT_AFTER = 30_000;

/** A broker that cannot start says why in plain words on stderr (whatever the log format), exit 2 for bad config. */
function failedToStart(err: unknown): never {
  process.stderr.write(`amq-sim broker: Failed to start broker: ${(err as Error).message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

/**
 * Runs a broker until a signal stops it. A master that loses its store lock
 * goes back to waiting as a slave (ActiveMQ's `restartAllowed`), or exits
 * with status 1 when restartAllowed is false. Exit status 2: bad config.
 */
export async function runBroker(args: BrokerArgs): Promise<void> {
  const logger = createLogger({ level: args['log-level'], format: args['log-format'] });
  let config: BrokerConfig;
  try {
    config = resolveBrokerConfig(...configFromArgs(args, logger));
  } catch (err) {
    failedToStart(err);
  }
  let signalled = false;
  let current: Broker | null = null;
  // Signals are handled from the start: one that arrives while starting or waiting for the lock stops the broker too.
  // A second signal, or a stop that takes too long (a disk that does not answer), ends the process at once.
  const stop = (signal: string) => {
    if (signalled) {
      logger.warn({ signal }, `Received ${signal} again: exiting without waiting for the broker to stop`);
      process.exit(1);
    }
    signalled = true;
    logger.info({ signal }, `Received ${signal}, stopping`);
    setTimeout(() => {
      logger.warn({ seconds: FORCED_EXIT_AFTER / 1000 }, `The broker did not stop within ${FORCED_EXIT_AFTER / 1000} seconds: exiting`);
      process.exit(1);
    }, FORCED_EXIT_AFTER).unref();
    void current?.stop();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Run by `amq-sim cluster` (an IPC channel to it): stop when it goes, even if it was killed with SIGKILL.
  if (process.send) process.on('disconnect', () => stop('the end of amq-sim cluster'));
  for (;;) {
    let broker: Broker;
    try {
      broker = createBroker(config, { logger });
      current = broker;
      await broker.start();
    } catch (err) {
      if (isLockWaitAborted(err)) process.exit(0);
      failedToStart(err);
    }
    if (signalled) await broker.stop();
    const outcome = await broker.finished;
    if (outcome === 'fenced' && config.locker.restartAllowed && !signalled) {
      logger.info('Restarting: waiting for the store lock as a slave');
      continue;
    }
    process.exit(outcome === 'stopped' ? 0 : 1);
  }
}

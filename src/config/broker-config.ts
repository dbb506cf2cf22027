import { configError } from '../errors.js';
import { SYNC_STRATEGIES, type SyncStrategy } from '../store/sync-policy.js';
import { checkShape, type Shape, type ShapeErrors } from './shape.js';
import { DEFAULT_POLICY, type DestinationPolicy, type PolicyEntry } from './policy.js';
import { type BridgeAuthentication, DEFAULT_BRIDGE_AUTHENTICATION, NO_TLS_FILES, type PluginsConfig, type TlsFiles } from './security.js';
import { parseSize } from './size.js';
import { DEFAULT_VIRTUAL_TOPIC, type VirtualTopicConfig } from './virtual-topics.js';

/** Everything a broker is started with. CLI flags and config files both end up here. */
export interface BrokerConfig {
  /** ActiveMQ `brokerName`. */
  brokerName: string;
  /** ActiveMQ `transportConnectors`: URIs such as `stomp://0.0.0.0:61613`, `ws://0.0.0.0:61614`. */
  transportConnectors: string[];
  /** ActiveMQ `persistent`: false keeps everything in memory and takes no lock. */
  persistent: boolean;
  store: StoreConfig;
  locker: LockerConfig;
  policy: DestinationPolicy;
  /** Per-destination settings (ActiveMQ `<destinationPolicy><policyMap><policyEntries>`). */
  policyEntries: PolicyEntry[];
  systemUsage: SystemUsageConfig;
  /** ActiveMQ's virtual topics (`<virtualDestinationInterceptor>`); default: `VirtualTopic.>` with consumer queues `Consumer.*.`, as ActiveMQ. */
  virtualTopics: VirtualTopicConfig[];
  /** ActiveMQ `schedulerSupport`: messages with `AMQ_SCHEDULED_*` headers are delivered later (off by default, as ActiveMQ). */
  schedulerSupport: boolean;
  /** A scheduled job's start is rounded up to this many ms; ActiveMQ rounds to 500 (jobs fire up to half a second late); 0 fires on time. */
  schedulerStartRounding: number;
  /** ActiveMQ's `<plugins>`: authentication and authorization (docs/SECURITY.md). */
  plugins: PluginsConfig;
  /** Who may act as another broker's network bridge. */
  bridgeAuthentication: BridgeAuthentication;
  /** ActiveMQ `<sslContext>`, as PEM files: what TLS connectors serve with and network connectors dial with. */
  sslContext: TlsFiles;
  /** Directory of the temp store, where non-persistent messages spill (ActiveMQ `tmp_storage`); default: `tmp_storage` in the store directory. */
  tempDirectory: string | null;
  /** Network connector URIs (ActiveMQ `networkConnectors`), e.g. `static:(stomp://hub:61616)?duplex=true`. */
  networkConnectors: string[];
  /** Admin endpoint, e.g. `http://127.0.0.1:8161`; null for none. */
  admin: string | null;
  /** HTTP Basic credentials for the admin endpoint's `/api/*`; required when it listens beyond loopback. The password may be hashed. */
  adminUser: string | null;
  adminPassword: string | null;
}

/** ActiveMQ's shared-file locker settings (`<kahaDB><locker><shared-file-locker .../>`), and amq-sim's fencing. */
export interface LockerConfig {
  /** Take the store lock at all (KahaDB `useLock`); false allows two masters on one store. */
  useLock: boolean;
  /** How often a slave tries the lock, ms (ActiveMQ default 10000). */
  lockAcquireSleepInterval: number;
  /** How often the master refreshes and re-checks its lock, ms. */
  lockKeepAlivePeriod: number;
  /** A lock not refreshed for this long is taken over, ms (at least 2000). */
  lockStaleTimeout: number;
  /** Fail at start instead of waiting as a slave. */
  failIfLocked: boolean;
  /** A master that loses its lock goes back to waiting as a slave (ActiveMQ `restartAllowed`); false: it exits. */
  restartAllowed: boolean;
}

/** ActiveMQ's `<systemUsage>`: the broker's limits, in bytes (sizes such as '64 mb' in a config file). */
export interface SystemUsageConfig {
  /** Messages held in memory: pending, in flight, in open transactions. */
  memoryUsage: { limit: number };
  /** The message store's files on disk. */
  storeUsage: { limit: number };
  /** The temp store's files (non-persistent messages spilled from memory). */
  tempUsage: { limit: number };
  /** A producer to a full destination gets an ERROR at once instead of waiting. */
  sendFailIfNoSpace: boolean;
  /** A producer waits at most this long (ms) for room, then gets an ERROR; 0 = waits as long as it takes. */
  sendFailIfNoSpaceAfterTimeout: number;
}

/** KahaDB's settings, with its names and defaults. */
export interface StoreConfig {
  /** KahaDB `directory`. */
  directory: string;
  journalMaxFileLength: number;
  journalDiskSyncStrategy: SyncStrategy;
  journalDiskSyncInterval: number;
  checkpointInterval: number;
  cleanupInterval: number;
  checkForCorruptJournalFiles: boolean;
}

export const DEFAULT_BROKER_CONFIG: Readonly<BrokerConfig> = {
  brokerName: 'localhost',
  transportConnectors: ['stomp://127.0.0.1:61613', 'ws://127.0.0.1:61614'],
  persistent: true,
  store: {
    directory: './kahadb',
    journalMaxFileLength: 32 * 1024 * 1024,
    journalDiskSyncStrategy: 'always',
    journalDiskSyncInterval: 1000,
    checkpointInterval: 5000,
    cleanupInterval: 30_000,
    checkForCorruptJournalFiles: false,
  },
  locker: {
    useLock: true,
    lockAcquireSleepInterval: 10_000,
    lockKeepAlivePeriod: 1000,
    lockStaleTimeout: 10_000,
    failIfLocked: false,
    restartAllowed: true,
  },
  policy: DEFAULT_POLICY,
  policyEntries: [],
  systemUsage: {
    memoryUsage: { limit: 512 * 1024 * 1024 },
    storeUsage: { limit: 100 * 1024 ** 3 },
    tempUsage: { limit: 50 * 1024 ** 3 },
    sendFailIfNoSpace: false,
    sendFailIfNoSpaceAfterTimeout: 0,
  },
  tempDirectory: null,
  virtualTopics: [DEFAULT_VIRTUAL_TOPIC],
  schedulerSupport: false,
  schedulerStartRounding: 0,
  plugins: {},
  bridgeAuthentication: DEFAULT_BRIDGE_AUTHENTICATION,
  sslContext: NO_TLS_FILES,
  networkConnectors: [],
  admin: null,
  adminUser: null,
  adminPassword: null,
};

const POLICY_SHAPE: Shape = {
  prioritizedMessages: 'boolean',
  maximumRedeliveries: 'number',
  deadLetterStrategy: ['shared', 'individual'],
  deadLetterQueuePrefix: 'string',
  deadLetterTopicPrefix: 'string',
  processExpired: 'boolean',
  processNonPersistent: 'boolean',
  nackToDeadLetter: 'boolean',
  expireMessagesPeriod: 'number',
  queuePrefetch: 'number',
  topicPrefetch: 'number',
  durableTopicPrefetch: 'number',
  retroactiveMessages: 'number',
  memoryLimit: 'size',
  producerFlowControl: 'boolean',
  maxPageSize: 'number',
  cursorMemoryHighWaterMark: 'number',
  pendingMessageLimit: 'number',
  networkRedeliveryAffinity: 'number',
};

const POLICY_ENTRY_SHAPE: Shape = {
  queue: 'string',
  topic: 'string',
  memoryLimit: 'size',
  producerFlowControl: 'boolean',
  maxPageSize: 'number',
  cursorMemoryHighWaterMark: 'number',
  pendingMessageLimit: 'number',
};

const ANONYMOUS_SHAPE: Shape = { anonymousAccessAllowed: 'boolean', anonymousUser: 'string', anonymousGroup: 'string' };
const RIGHTS_SHAPE: Shape = { read: 'string', write: 'string', admin: 'string' };

const PLUGINS_SHAPE: Shape = {
  simpleAuthenticationPlugin: { ...ANONYMOUS_SHAPE, users: [{ username: 'string', password: 'string', groups: 'string' }] },
  jaasAuthenticationPlugin: { ...ANONYMOUS_SHAPE, users: 'string', groups: 'string' },
  authorizationPlugin: { entries: [{ queue: 'string', topic: 'string', ...RIGHTS_SHAPE }], tempDestinationAuthorizationEntry: RIGHTS_SHAPE },
};

const BROKER_SHAPE: Shape = {
  brokerName: 'string',
  transportConnectors: 'string[]',
  persistent: 'boolean',
  store: {
    directory: 'string',
    journalMaxFileLength: 'number',
    journalDiskSyncStrategy: SYNC_STRATEGIES,
    journalDiskSyncInterval: 'number',
    checkpointInterval: 'number',
    cleanupInterval: 'number',
    checkForCorruptJournalFiles: 'boolean',
  },
  locker: {
    useLock: 'boolean',
    lockAcquireSleepInterval: 'number',
    lockKeepAlivePeriod: 'number',
    lockStaleTimeout: 'number',
    failIfLocked: 'boolean',
    restartAllowed: 'boolean',
  },
  policy: POLICY_SHAPE,
  policyEntries: [POLICY_ENTRY_SHAPE],
  systemUsage: {
    memoryUsage: { limit: 'size' },
    storeUsage: { limit: 'size' },
    tempUsage: { limit: 'size' },
    sendFailIfNoSpace: 'boolean',
    sendFailIfNoSpaceAfterTimeout: 'number',
  },
  tempDirectory: 'string|null',
  virtualTopics: [{ name: 'string', prefix: 'string', postfix: 'string', selectorAware: 'boolean', local: 'boolean' }],
  schedulerSupport: 'boolean',
  schedulerStartRounding: 'number',
  plugins: PLUGINS_SHAPE,
  bridgeAuthentication: { groups: 'string', secret: 'string|null' },
  sslContext: { keyFile: 'string|null', certFile: 'string|null', caFile: 'string|null' },
  networkConnectors: 'string[]',
  admin: 'string|null',
  adminUser: 'string|null',
  adminPassword: 'string|null',
};

const CONFIG_ERRORS: ShapeErrors = {
  unknownKey: (where, known) => configError('CONFIG_UNKNOWN_KEY', where, known),
  badValue: (where, expected, actual) => configError('CONFIG_BAD_VALUE', where, expected, actual),
};

/** Checks a partial config (from a file or from flags) against the known keys and types; names the first bad key. */
export function validatePartialConfig(input: unknown): void {
  checkShape(input, BROKER_SHAPE, CONFIG_ERRORS, { partial: true, what: 'config' });
}

export type PartialBrokerConfig = {
  [K in keyof BrokerConfig]?: BrokerConfig[K] extends object ? (BrokerConfig[K] extends unknown[] ? BrokerConfig[K] : Partial<BrokerConfig[K]>) : BrokerConfig[K];
};

/** Defaults, then each layer in turn (config file, then flags). */
export function resolveBrokerConfig(...layers: PartialBrokerConfig[]): BrokerConfig {
  const config: BrokerConfig = structuredClone({ ...DEFAULT_BROKER_CONFIG });
  for (const layer of layers) {
    validatePartialConfig(layer);
    for (const [key, value] of Object.entries(layer) as Array<[keyof BrokerConfig, unknown]>) {
      if (value === undefined) continue;
      const current = config[key];
      if (current && typeof current === 'object' && !Array.isArray(current)) Object.assign(current, value);
      else (config as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (config.transportConnectors.length === 0) throw configError('CONFIG_INVALID', 'At least one transport connector is needed');
  resolveSizes(config);
  const l = config.locker;
  if (l.lockStaleTimeout < 2000) throw configError('CONFIG_BAD_VALUE', 'locker.lockStaleTimeout', 'at least 2000 ms', String(l.lockStaleTimeout));
  if (l.lockKeepAlivePeriod < 100 || l.lockKeepAlivePeriod * 2 > l.lockStaleTimeout) {
    throw configError('CONFIG_BAD_VALUE', 'locker.lockKeepAlivePeriod', `between 100 ms and half of lockStaleTimeout (${l.lockStaleTimeout / 2} ms)`, String(l.lockKeepAlivePeriod));
  }
  if (!(config.schedulerStartRounding >= 0)) throw configError('CONFIG_BAD_VALUE', 'schedulerStartRounding', 'a number of ms, 0 or more', String(config.schedulerStartRounding));
  if (l.lockAcquireSleepInterval < 100) throw configError('CONFIG_BAD_VALUE', 'locker.lockAcquireSleepInterval', 'at least 100 ms', String(l.lockAcquireSleepInterval));
  return config;
}

/** Sizes written as text ('64 mb') become bytes; a policy entry names a queue or a topic. */
function resolveSizes(config: BrokerConfig): void {
  const u = config.systemUsage;
  for (const usage of [u.memoryUsage, u.storeUsage, u.tempUsage]) usage.limit = parseSize(usage.limit)!;
  config.policy.memoryLimit = parseSize(config.policy.memoryLimit)!;
  config.policyEntries.forEach((entry, i) => {
    if ((entry.queue === undefined) === (entry.topic === undefined)) throw configError('CONFIG_BAD_VALUE', `policyEntries[${i}]`, "an entry with either 'queue' or 'topic'", JSON.stringify(entry));
    if (entry.memoryLimit !== undefined) entry.memoryLimit = parseSize(entry.memoryLimit)!;
  });
}

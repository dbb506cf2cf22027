/**
 * Cluster topologies for `amq-sim cluster`: the three built-ins (master/slave,
 * network of brokers, both combined) and
 * user files (YAML or JSON) in the same shape, validated here and turned into
 * one broker config per process.
 */
import { join } from 'node:path';
import { configError } from '../errors.js';
import { type PartialBrokerConfig, resolveBrokerConfig, validatePartialConfig } from './broker-config.js';

export interface TopologyBroker {
  /** Broker name; also the placeholder `${name}` other brokers' network URIs use for its STOMP address. */
  name: string;
  /** Store directory under the cluster's data directory; brokers naming the same store share it (master/slave). Default: the broker's name. */
  store?: string;
  /** Network connector URIs with `${broker}` placeholders. */
  network?: string[];
  /** Any other broker settings, as in `amq-sim broker --config` (locker, policy, store options, persistent). */
  config?: PartialBrokerConfig;
}

export interface Topology {
  name: string;
  description: string;
  brokers: TopologyBroker[];
}

const EDGE_TO_HUB = 'static:(${broker1})?duplex=true';
const EDGE_TO_PAIR = 'static:(failover:(${broker1a},${broker1b}))?duplex=true';

export const BUILTIN_TOPOLOGIES: Readonly<Record<string, Topology>> = {
  'master-slave': {
    name: 'master-slave',
    description: 'broker1 and broker2 share one store: broker1 takes the lock and serves, broker2 waits as a slave and takes over when broker1 dies',
    brokers: [
      { name: 'broker1', store: 'kahadb' },
      { name: 'broker2', store: 'kahadb' },
    ],
  },
  network: {
    name: 'network',
    description: 'broker1 is the producer-facing hub; the consumer-facing edges broker2 and broker3 open duplex network connectors to it',
    brokers: [{ name: 'broker1' }, { name: 'broker2', network: [EDGE_TO_HUB] }, { name: 'broker3', network: [EDGE_TO_HUB] }],
  },
  combined: {
    name: 'combined',
    description: "the hub broker1 is a master/slave pair (broker1a, broker1b on one store); the edges broker2 and broker3 reach it with failover: network connectors",
    brokers: [
      { name: 'broker1a', store: 'broker1' },
      { name: 'broker2', network: [EDGE_TO_PAIR] },
      { name: 'broker3', network: [EDGE_TO_PAIR] },
      { name: 'broker1b', store: 'broker1' },
    ],
  },
};

const BROKER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;

function fail(source: string, message: string): never {
  throw configError('CONFIG_TOPOLOGY', source, message);
}

function checkKeys(value: Record<string, unknown>, known: string[], where: string, source: string): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) fail(source, `unknown key '${where}${key}' (known: ${known.join(', ')})`);
}

/** Validates a topology read from a file; every message names the file and the offending key. */
export function parseTopology(input: unknown, source: string, defaultName: string): Topology {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail(source, 'must hold an object with a brokers list');
  const t = input as Record<string, unknown>;
  checkKeys(t, ['name', 'description', 'brokers'], '', source);
  if (t.name !== undefined && typeof t.name !== 'string') fail(source, "'name' must be a string");
  if (t.description !== undefined && typeof t.description !== 'string') fail(source, "'description' must be a string");
  if (!Array.isArray(t.brokers) || t.brokers.length === 0) fail(source, "'brokers' must be a non-empty list");
  const names = new Set<string>();
  const brokers = t.brokers.map((raw, i): TopologyBroker => {
    const where = `brokers[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(source, `${where} must be an object with a name`);
    const b = raw as Record<string, unknown>;
    checkKeys(b, ['name', 'store', 'network', 'config'], `${where}.`, source);
    if (typeof b.name !== 'string' || !BROKER_NAME.test(b.name)) fail(source, `${where}.name must be a name of letters, digits, '.', '_' or '-', not ${JSON.stringify(b.name)}`);
    if (names.has(b.name)) fail(source, `broker name '${b.name}' is used twice`);
    names.add(b.name);
    if (b.store !== undefined && (typeof b.store !== 'string' || !BROKER_NAME.test(b.store))) fail(source, `${where}.store must be a directory name, not ${JSON.stringify(b.store)}`);
    if (b.network !== undefined && (!Array.isArray(b.network) || b.network.some((u) => typeof u !== 'string'))) fail(source, `${where}.network must be a list of network connector URIs`);
    if (b.config !== undefined) {
      try {
        validatePartialConfig(b.config);
      } catch (err) {
        fail(source, `${where}.config: ${(err as Error).message}`);
      }
      for (const owned of ['brokerName', 'transportConnectors', 'networkConnectors', 'admin'] as const) {
        if (owned in (b.config as object)) fail(source, `${where}.config.${owned} is set by the cluster; use the broker's name, --base-port or network instead`);
      }
    }
    return { name: b.name, store: b.store as string | undefined, network: b.network as string[] | undefined, config: b.config as PartialBrokerConfig | undefined };
  });
  for (const [i, b] of brokers.entries()) {
    for (const uri of b.network ?? []) {
      for (const [, ref] of uri.matchAll(PLACEHOLDER)) {
        if (!names.has(ref)) fail(source, `brokers[${i}].network refers to \${${ref}}, which is not a broker of this topology (${[...names].join(', ')})`);
      }
    }
  }
  return { name: (t.name as string | undefined) ?? defaultName, description: (t.description as string | undefined) ?? '', brokers };
}

export interface PlanOptions {
  /** First STOMP port; brokers get consecutive ports in the order listed. */
  basePort: number;
  /** First admin port, likewise. */
  adminBasePort: number;
  /** Interface the brokers listen on. */
  host: string;
  /** Directory that holds the brokers' stores. */
  dataDir: string;
  /** Slave poll interval (ActiveMQ lockAcquireSleepInterval), when the user sets one. */
  lockPoll?: number;
  /** Settings for every broker, under each broker's own (`amq-sim cluster --config`, `--secure`). */
  shared?: PartialBrokerConfig;
  /** Added to every network connector URI's query (a bridge user's credentials). */
  networkQuery?: (uri: string) => string;
  /** Brokers listen on stomp+ssl:// (with the shared sslContext) and bridges dial it. */
  tls?: boolean;
}

export interface BrokerPlan {
  name: string;
  stompUrl: string;
  adminUrl: string;
  /** Store directory, or null for a broker that keeps nothing on disk. */
  storeDir: string | null;
  /** Other brokers on the same store. */
  sharesStoreWith: string[];
  config: PartialBrokerConfig;
}

/** One complete broker config per broker of the topology, checked as `amq-sim broker` would check it. */
export function planCluster(topology: Topology, o: PlanOptions): BrokerPlan[] {
  const n = topology.brokers.length;
  for (const [option, base] of [['--base-port', o.basePort], ['--admin-base-port', o.adminBasePort]] as const) {
    if (base + n - 1 > 65_535) throw configError('CONFIG_INVALID', `${option} ${base} leaves no room for ${n} brokers: ports end at 65535`);
  }
  const connectHost = o.host === '0.0.0.0' ? '127.0.0.1' : o.host;
  const scheme = o.tls ? 'stomp+ssl' : 'stomp';
  const address = new Map(topology.brokers.map((b, i) => [b.name, `${scheme}://${connectHost}:${o.basePort + i}`]));
  const networkUri = o.networkQuery ?? ((uri: string) => uri);
  return topology.brokers.map((b, i) => {
    const storeName = b.store ?? b.name;
    const persistent = b.config?.persistent ?? true;
    const storeDir = persistent ? join(o.dataDir, storeName) : null;
    const config: PartialBrokerConfig = {
      ...o.shared,
      ...b.config,
      brokerName: b.name,
      transportConnectors: [`${scheme}://${o.host}:${o.basePort + i}`],
      networkConnectors: (b.network ?? []).map((uri) => networkUri(uri.replace(PLACEHOLDER, (_, ref: string) => address.get(ref)!))),
      admin: `http://${o.host}:${o.adminBasePort + i}`,
      store: { ...b.config?.store, directory: storeDir ?? join(o.dataDir, storeName) },
    };
    if (o.lockPoll !== undefined) config.locker = { ...b.config?.locker, lockAcquireSleepInterval: o.lockPoll };
    try {
      resolveBrokerConfig(config);
    } catch (err) {
      throw configError('CONFIG_INVALID', `Broker ${b.name}: ${(err as Error).message}`);
    }
    return {
      name: b.name,
      stompUrl: address.get(b.name)!,
      adminUrl: `http://${connectHost}:${o.adminBasePort + i}`,
      storeDir,
      sharesStoreWith: persistent ? topology.brokers.filter((x) => x !== b && (x.store ?? x.name) === storeName && (x.config?.persistent ?? true)).map((x) => x.name) : [],
      config,
    };
  });
}

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { DEFAULT_BROKER_CONFIG, type PartialBrokerConfig } from '../config/broker-config.js';
import { type ClusterSecurity, clusterSecurity, withNetworkOptions } from './cluster-security.js';
import { listenClusterConsole } from './cluster-console.js';
import { listenFrontDoor } from './front-door.js';
import { planXmlCluster, xmlFiles } from './xml-cluster.js';
import { hashPassword } from '../security/password.js';
import { isLoopbackHost } from '../transport/link.js';
import { ConfigError, configError } from '../errors.js';
import { numberOption, portOption, withDefault } from './options.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../config/logger.js';
import { BUILTIN_TOPOLOGIES, type BrokerPlan, parseTopology, planCluster, type Topology } from '../config/topology.js';
import { parseNetworkUri } from '../network/connector-config.js';
import { ClusterSupervisor } from './cluster-supervisor.js';
import { readConfigFile } from './config-file.js';
import { textTable } from './text-table.js';

export interface ClusterArgs {
  topology: string[];
  'base-port': number;
  'admin-base-port': number;
  'console-port': number;
  'front-door-port': number;
  host: string;
  data?: string;
  'lock-poll'?: number;
  config?: string;
  secure?: boolean;
  tls?: boolean;
  'log-level': LogLevel;
  'log-format'?: LogFormat;
}

export function clusterOptions(y: Argv): Argv<ClusterArgs> {
  return y
    .positional('topology', { type: 'string', array: true, demandOption: true, describe: `${Object.keys(BUILTIN_TOPOLOGIES).join(', ')}, a topology file (YAML or JSON), or activemq.xml files (or folders of them): one broker each` })
    .option('base-port', portOption('base-port', 'STOMP port of the first broker; the others get the next ports, in the order listed', 61611))
    .option('admin-base-port', portOption('admin-base-port', 'Admin port of the first broker (amq-sim status --admin ...), likewise', 8161))
    .option('console-port', portOption('console-port', 'Port of the cluster view: the topology drawn live, with faults as buttons (amq-sim fault ...)', 8160))
    .option('front-door-port', portOption('front-door-port', 'First port of the front doors: one address per master/slave pair that always reaches its current master, for clients without failover', 61610))
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Interface the brokers listen on' })
    .option('data', { type: 'string', describe: 'Directory for the brokers\' stores and generated configs [default: ./amq-sim-data/<topology>]' })
    .option('lock-poll', numberOption('lock-poll', withDefault('How often slaves try the store lock, ms (ActiveMQ lockAcquireSleepInterval)', DEFAULT_BROKER_CONFIG.locker.lockAcquireSleepInterval), { min: 100, integer: true }))
    .option('config', { type: 'string', describe: 'JSON or YAML file of broker settings for every broker (users, authorization, sslContext…); a topology file\'s own settings win' })
    .option('secure', { type: 'boolean', default: false, describe: 'Users admin and bridge with generated passwords (printed at start): clients and admin endpoints log in, bridges authenticate as bridge. Without it bridges present a secret made for the cluster' })
    .option('tls', { type: 'boolean', default: false, describe: 'Brokers listen on stomp+ssl:// and bridges dial it; --config must give sslContext (keyFile, certFile, caFile)' })
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level of every broker' })
    .option('log-format', { choices: ['json', 'pretty'] as const, describe: 'Log format: pretty ([broker] prefix before each line) or json (each line as the broker wrote it, with its "broker" field) [default: pretty]' })
    .example('$0 cluster network', 'Network of brokers: the hub broker1 (producers) and the edges broker2, broker3 (consumers) on 61611-61613')
    .example('$0 cluster master-slave --lock-poll 1000', 'Two brokers on one store; kill -9 the master and watch broker2 take over')
    .example('$0 cluster ./my-topology.yml --base-port 62000', 'Any layout from a file')
    .example('$0 cluster network --secure --tls --config tls.yml', 'The network of brokers with users, bridge credentials and TLS')
    .example('$0 cluster broker1.xml broker2.xml broker3.xml', 'Your own ActiveMQ topology, one broker per activemq.xml') as unknown as Argv<ClusterArgs>;
}

function loadTopology(nameOrFile: string): Topology {
  const builtin = BUILTIN_TOPOLOGIES[nameOrFile];
  if (builtin) return builtin;
  if (!/[./\\]/.test(nameOrFile)) {
    throw configError('CONFIG_INVALID', `No built-in topology '${nameOrFile}' (built-ins: ${Object.keys(BUILTIN_TOPOLOGIES).join(', ')}); a topology file is named by its path`);
  }
  return parseTopology(readConfigFile(nameOrFile), nameOrFile, topologyName(nameOrFile));
}

/** `network` → network; `./conf/chain.yml` → chain: the default name of a topology and of its data directory. */
function topologyName(nameOrFile: string): string {
  return nameOrFile.replace(/^.*[/\\]/, '').replace(/\.(ya?ml|json)$/, '');
}

/** Network URIs are checked here, with the broker's name, rather than failing in a child process. */
function checkNetworkUris(plans: BrokerPlan[]): void {
  for (const p of plans) {
    for (const uri of p.config.networkConnectors ?? []) {
      try {
        parseNetworkUri(uri);
      } catch (err) {
        throw configError('CONFIG_INVALID', `Broker ${p.name}: ${(err as Error).message}`);
      }
    }
  }
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = net.createServer();
    server.once('error', () => resolvePort(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

async function checkPorts(plans: BrokerPlan[], host: string, consolePort: number, frontDoorPort: number): Promise<void> {
  if (!(await portFree(host, consolePort))) throw configError('CONFIG_PORT_IN_USE', consolePort, 'cluster view');
  for (let i = 0; i < storeGroups(plans).length; i++) if (!(await portFree(host, frontDoorPort + i))) throw configError('CONFIG_PORT_IN_USE', frontDoorPort + i, 'front door');
  for (const p of plans) {
    for (const [what, url] of [['STOMP', p.stompUrl], ['admin', p.adminUrl]] as const) {
      const port = Number(new URL(url).port);
      if (!(await portFree(host, port))) {
        throw configError('CONFIG_PORT_IN_USE', port, `${p.name} ${what}`);
      }
    }
  }
}


/** The master/slave pairs (or larger groups) of a cluster: brokers on one store. */
function storeGroups(plans: BrokerPlan[]): BrokerPlan[][] {
  const groups = new Map<string, BrokerPlan[]>();
  for (const p of plans) if (p.storeDir && p.sharesStoreWith.length > 0) groups.set(p.storeDir, [...(groups.get(p.storeDir) ?? []), p]);
  return [...groups.values()];
}

/** The endpoint table printed at start: where each broker listens and what it is. */
function endpointTable(topology: Topology, plans: BrokerPlan[], pids: Record<string, number | undefined>, security: ClusterSecurity, view: string, frontDoors: string[]): string {
  const rows = [['broker', 'pid', 'STOMP', 'admin', 'store', 'role']];
  for (const p of plans) {
    const role = p.sharesStoreWith.length > 0 ? `master/slave with ${p.sharesStoreWith.join(', ')}` : p.config.networkConnectors?.length ? `network → ${p.config.networkConnectors.join(' ')}` : 'broker';
    rows.push([p.name, String(pids[p.name] ?? '-'), p.stompUrl, p.adminUrl.replace('://', `://${security.adminUserInfo}`), p.storeDir ?? '(memory)', role]);
  }
  const lines = [`Cluster '${topology.name}'${topology.description ? `: ${topology.description}` : ''}`, '', textTable(rows)];
  for (const [i, group] of storeGroups(plans).entries()) {
    lines.push('', `Clients of ${group.map((p) => p.name).join(' / ')}: failover:(${group.map((p) => p.stompUrl).join(',')})`);
    if (frontDoors[i]) lines.push(`  or one address that always reaches the current master (front door): ${frontDoors[i]}`);
  }
  if (security.credentials.length > 0) lines.push('', ...security.credentials);
  lines.push('', `Cluster view: ${view} (faults: amq-sim fault kill|freeze|resume|restart <broker> --cluster ${view.replace(/\/$/, '')})`);
  lines.push('', 'Ctrl-C stops every broker. Status: amq-sim status --admin <admin URL>', '');
  return lines.join('\n');
}

export async function runCluster(args: ClusterArgs): Promise<void> {
  const out = process.stdout;
  let topology: Topology;
  let plans: BrokerPlan[];
  const files = xmlFiles(args.topology);
  const dataDir = resolve(args.data ?? join('amq-sim-data', files ? 'activemq-xml' : topologyName(args.topology[0])));
  let security: ClusterSecurity;
  try {
    security = clusterSecurity(args.config ? (readConfigFile(args.config) as PartialBrokerConfig) : {}, args.secure === true);
    if (files) {
      if (args.tls) throw configError('CONFIG_INVALID', '--tls applies to the built-in topologies: activemq.xml files give their own stomp+ssl:// connectors and sslContext');
      const xml = planXmlCluster(files, args['admin-base-port'], security.shared);
      topology = xml.topology;
      plans = xml.plans.map((p) => ({ ...p, config: { ...p.config, networkConnectors: p.config.networkConnectors!.map((uri) => withNetworkOptions(uri, security.networkOptions)) } }));
      for (const x of xml.ignored) process.stderr.write(`[${x.broker}] Not supported by amq-sim, ignored: ${x.ignored.join(', ')}\n`);
    } else {
      if (args.topology.length > 1) throw configError('CONFIG_INVALID', `One topology at a time (${args.topology.join(', ')}): several files are activemq.xml files, one per broker`);
      topology = loadTopology(args.topology[0]);
      if (args.tls && !security.shared.sslContext?.certFile) throw configError('CONFIG_INVALID', '--tls needs sslContext (keyFile, certFile, caFile) in the --config file');
      plans = planCluster(topology, {
        basePort: args['base-port'],
        adminBasePort: args['admin-base-port'],
        host: args.host,
        dataDir,
        lockPoll: args['lock-poll'],
        shared: security.shared,
        networkQuery: (uri) => withNetworkOptions(uri, security.networkOptions),
        tls: args.tls === true,
      });
    }
    checkNetworkUris(plans);
    await checkPorts(plans, args.host, args['console-port'], args['front-door-port']);
    if (!security.admin && !isLoopbackHost(args.host)) throw configError('CONFIG_INVALID', `--host ${args.host} puts the admin endpoints and the cluster view beyond loopback: add --secure`);
  } catch (err) {
    process.stderr.write(`amq-sim cluster: ${(err as Error).message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  }
  mkdirSync(dataDir, { recursive: true });
  const brokers = plans.map((p) => {
    const configFile = join(dataDir, `${p.name}.config.json`);
    // It holds the cluster's secrets: for its owner's eyes only.
    writeFileSync(configFile, JSON.stringify(p.config, null, 2) + '\n', { mode: 0o600 });
    chmodSync(configFile, 0o600);
    return { name: p.name, configFile };
  });
  const logFormat = args['log-format'] ?? 'pretty';
  const supervisor = new ClusterSupervisor(brokers, { logLevel: args['log-level'], logFormat, out, color: out.isTTY === true });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nReceived ${signal}: stopping every broker of the cluster\n`);
    void supervisor.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    await supervisor.start();
  } catch (err) {
    process.stderr.write(`amq-sim cluster: ${(err as Error).message}\n`);
    await supervisor.stop();
    process.exit(1);
  }
  if (stopping) return;
  const consoleHost = args.host === '0.0.0.0' ? '127.0.0.1' : args.host;
  const view = await listenClusterConsole({
    host: args.host,
    port: args['console-port'],
    topology,
    plans,
    supervisor,
    credentials: security.admin && { user: security.admin.user, password: hashPassword(security.admin.password) },
    adminPassword: security.admin?.password ?? null,
  });
  const viewUrl = `http://${security.adminUserInfo}${consoleHost}:${view.port}/`;
  const frontDoors: string[] = [];
  for (const [i, group] of storeGroups(plans).entries()) {
    const serving = () => {
      const p = group.find((x) => supervisor.isServing(x.name));
      if (!p) return null;
      const u = new URL(p.stompUrl);
      return { name: p.name, host: u.hostname, port: Number(u.port) };
    };
    const door = await listenFrontDoor(args.host, args['front-door-port'] + i, serving);
    frontDoors.push(`${group[0].stompUrl.replace(/:\d+$/, '')}:${door.port}`);
  }
  // With JSON log lines on stdout the table goes to stderr, so it never breaks a log parser.
  (logFormat === 'json' ? process.stderr : out).write('\n' + endpointTable(topology, plans, supervisor.pids, security, viewUrl, frontDoors) + '\n');
  await supervisor.allExited();
  if (!stopping) {
    process.stderr.write('amq-sim cluster: every broker has exited\n');
    process.exit(1);
  }
}

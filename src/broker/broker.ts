import { readFileSync } from 'node:fs';
import { type BrokerConfig, type PartialBrokerConfig, resolveBrokerConfig } from '../config/broker-config.js';
import { type Logger, silentLogger } from '../config/logger.js';
import { LockWaitAborted, StoreLock } from '../lock/store-lock.js';
import { JournalFencedError } from '../store/journal.js';
import { JournalStore } from '../store/journal-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { MessageStore } from '../store/types.js';
import { type AdminServer, AdminError, listenAdmin } from './admin-server.js';
import { Advisories } from './advisories.js';
import type { BrokerExtension } from './extension.js';
import { type BridgeHello, NetworkDuplicates } from './network-protocol.js';
import { parseSimpleUri } from '../config/uri.js';
import { IdGenerator } from './ids.js';
import type { BrokerMessage } from './message.js';
import { MessageRouter } from './router.js';
import { type ConnectionContext, StompConnection } from './stomp-connection.js';
import { parseTransportUri, type TransportConnectorSpec } from './transport/connector-uri.js';
import { BACKLOG_HIGH_WATER, type Link } from './transport/link.js';
import { type ListeningServer, listenTcp } from './transport/tcp.js';
import { listenWebSocket } from './transport/websocket.js';
import { compileSelector } from './selector.js';
import { VERSION } from './version.js';
import { createHeaders, encodeFrame } from '../stomp/index.js';

export interface BrokerDependencies {
  logger?: Logger;
  /** Overrides the store the config would choose. */
  store?: MessageStore;
  /** Started once the broker serves (network connectors). */
  extensions?: BrokerExtension[];
}

export interface ConnectorStatus {
  uri: string;
  address: string;
  port: number;
  connections: number;
}

interface RunningConnector {
  spec: TransportConnectorSpec;
  server: ListeningServer;
  connections: Set<StompConnection>;
  address: string;
}

/** File descriptors kept free for the journal, logs and bridges when connections approach the process's limit. */
const FILE_RESERVE = 64;

/** Where a broker is in its life. A slave waits for the store lock and serves nothing. */
export type BrokerRole = 'created' | 'slave' | 'starting' | 'master' | 'stopping' | 'stopped';

/** How a broker's run ended: stopped on request, fenced (lost its store lock), or failed (its store broke). */
export type BrokerOutcome = 'stopped' | 'fenced' | 'failed';

/**
 * One broker: its store lock, its store, its destinations and its transport
 * connectors. `new Broker(config)` then `start()` (or `Broker.start(config)`);
 * `stop()` at any time, also while it waits for the lock as a slave.
 */
export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly ids = new IdGenerator();
  readonly brokerId: string;
  readonly router: MessageRouter;
  readonly advisories: Advisories;
  readonly store: MessageStore;
  readonly startedAt = Date.now();
  private readonly connectors: RunningConnector[] = [];
  private readonly clientIds = new Map<string, StompConnection>();
  private readonly connectionContext: ConnectionContext;
  private readonly fileLimit = readOpenFileLimit();
  private connectionCount = 0;
  private expiryTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private lastAcceptWarning = 0;
  private readonly specs: TransportConnectorSpec[];
  readonly lock: StoreLock | null;
  role: BrokerRole = 'created';
  /** Why the broker stopped on its own, if it did. */
  failure: string | null = null;
  private outcome: BrokerOutcome | null = null;
  private stoppedBecause: BrokerOutcome = 'stopped';
  private settle: (o: BrokerOutcome) => void = () => {};
  /** Resolves when the broker has stopped, saying why. */
  readonly finished: Promise<BrokerOutcome>;
  private readonly extensions: BrokerExtension[];
  private admin: AdminServer | null = null;
  /** Bridges other brokers opened to this one. */
  private readonly inboundBridges = new Map<StompConnection, { hello: BridgeHello; since: number }>();

  constructor(input: PartialBrokerConfig | BrokerConfig, deps: BrokerDependencies = {}) {
    const config = resolveBrokerConfig(input as PartialBrokerConfig);
    this.specs = config.transportConnectors.map(parseTransportUri);
    this.finished = new Promise((resolve) => (this.settle = resolve));
    this.config = config;
    this.logger = (deps.logger ?? silentLogger()).child({ broker: config.brokerName });
    this.brokerId = this.ids.runId;
    this.lock =
      config.persistent && config.locker.useLock && !deps.store
        ? new StoreLock({ directory: config.store.directory, ...config.locker, brokerName: config.brokerName, brokerId: this.brokerId, logger: this.logger })
        : null;
    this.store = deps.store ?? this.createStore(config);
    this.router = new MessageRouter({ brokerName: config.brokerName, policy: config.policy, store: this.store, logger: this.logger, newId: (kind) => this.ids.next(kind) });
    this.advisories = new Advisories(this.router, { brokerName: config.brokerName, brokerId: this.brokerId });
    this.extensions = deps.extensions ?? [];
    this.connectionContext = {
      brokerName: config.brokerName,
      brokerId: this.brokerId,
      networkDuplicates: new NetworkDuplicates(config.brokerName),
      bridgeOpened: (connection, hello) => this.bridgeOpened(connection, hello),
      bridgeClosed: (connection, hello) => this.bridgeClosed(connection, hello),
      server: `amq-sim/${VERSION}`,
      router: this.router,
      advisories: this.advisories,
      ids: this.ids,
      logger: this.logger,
      compileSelector,
      claimClientId: (clientId, connection) => this.claimClientId(clientId, connection),
      connectionClosed: (connection) => this.connectionClosed(connection),
    };
  }

  private createStore(config: BrokerConfig): MessageStore {
    if (!config.persistent) return new MemoryStore();
    return new JournalStore({
      ...config.store,
      logger: this.logger,
      guard: () => this.lock?.guard() ?? null,
      onFailure: (err) => {
        if (err instanceof JournalFencedError) this.fence(err.message);
        else this.fail(`the store failed: ${err.message}`);
      },
    });
  }

  static async start(config: PartialBrokerConfig | BrokerConfig = {}, deps: BrokerDependencies = {}): Promise<Broker> {
    const broker = new Broker(config, deps);
    await broker.start();
    return broker;
  }

  private get title(): string {
    return `amq-sim ${VERSION} (${this.config.brokerName}, ${this.brokerId})`;
  }

  /**
   * Takes the store lock (waiting as a slave while another broker holds it),
   * recovers the store, then opens the transport connectors. Rejects with
   * LockWaitAborted when stopped while waiting.
   */
  async start(): Promise<void> {
    if (this.config.admin) await this.openAdmin(this.config.admin);
    this.logger.info(`Using Persistence Adapter: ${JSON.stringify(this.store.describe())}`);
    if (this.lock) {
      this.role = 'slave';
      let waited: number;
      try {
        waited = await this.lock.acquire();
      } catch (err) {
        if (err instanceof LockWaitAborted) this.logger.info('Attempt to obtain lock aborted due to shutdown');
        this.role = 'stopped';
        this.finish('stopped');
        throw err;
      }
      this.logger.info({ lock: this.lock.lockPath, waitedSeconds: waited }, `Lock acquired on ${this.lock.lockPath}${waited > 0.5 ? ` after waiting ${waited.toFixed(1)} s` : ''}: this broker is the master`);
      this.lock.onLost((reason) => this.fence(reason));
    }
    this.role = 'starting';
    await this.run();
  }

  private async run(): Promise<void> {
    const name = this.title;
    const t0 = performance.now();
    const state = await this.store.recover();
    const recovered = this.router.recover(state, (record) => this.durableFilter(record.selector, record.noLocal));
    const seconds = (performance.now() - t0) / 1000;
    this.logger.info(
      { operations: state.operations, seconds, messages: recovered },
      `Recovery replayed ${state.operations} operations from the journal in ${seconds.toFixed(3)} seconds.`,
    );
    this.logger.info(`${name} is starting`);
    try {
      for (const spec of this.specs) await this.openConnector(spec);
    } catch (err) {
      await this.closeConnectors();
      await this.store.close();
      await this.lock?.close();
      this.role = 'stopped';
      this.finish('failed');
      throw err;
    }
    if (this.stopping) return;
    this.role = 'master';
    for (const ext of this.extensions) await ext.start(this);
    if (this.config.policy.expireMessagesPeriod > 0) {
      this.expiryTimer = setInterval(() => this.router.expireSweep(), this.config.policy.expireMessagesPeriod);
      this.expiryTimer.unref();
    }
    this.logger.info(`${name} started`);
  }

  private durableFilter(selector: string | undefined, _noLocal: boolean | undefined): (m: BrokerMessage) => boolean {
    if (!selector) return () => true;
    try {
      return this.connectionContext.compileSelector(selector);
    } catch (err) {
      this.logger.warn({ selector, err: (err as Error).message }, 'Durable subscription selector could not be compiled; the subscription receives every message');
      return () => true;
    }
  }

  private async openConnector(spec: TransportConnectorSpec): Promise<void> {
    const connector: RunningConnector = { spec, server: null as unknown as ListeningServer, connections: new Set(), address: '' };
    const accept = (link: Link) => this.accept(connector, link);
    const onError = (err: NodeJS.ErrnoException) => this.acceptFailed(spec, err);
    connector.server =
      spec.kind === 'stomp'
        ? await listenTcp(spec.scheme, spec.host, spec.port, accept, onError)
        : await listenWebSocket(spec.host, spec.port, spec.connection.limits.maxFrameSize, BACKLOG_HIGH_WATER, accept, onError);
    connector.address = `${spec.scheme}://${spec.host}:${connector.server.port}`;
    this.connectors.push(connector);
    this.logger.info({ uri: connector.address + spec.query }, `Listening for connections at: ${connector.address}${spec.query}`);
    this.logger.info(`Connector ${spec.scheme} started`);
  }

  private accept(connector: RunningConnector, link: Link): void {
    const refusal = this.refusal(connector);
    if (refusal) {
      link.start({ data: () => {}, drain: () => {}, closed: () => {} });
      link.write(encodeFrame({ command: 'ERROR', headers: createHeaders({ message: refusal, 'content-type': 'text/plain' }), body: Buffer.from(refusal + '\n') }, '1.0'));
      link.end();
      this.warnRateLimited(`${refusal} (connection from ${link.remoteAddress} refused)`);
      return;
    }
    const connection = new StompConnection(link, this.connectionContext, connector.spec.connection);
    connector.connections.add(connection);
    this.connectionCount++;
  }

  private refusal(connector: RunningConnector): string | null {
    if (this.stopping) return 'Broker is shutting down';
    if (connector.connections.size >= connector.spec.maximumConnections) {
      return `Exceeded the maximum number of allowed client connections. See the 'maximumConnections' property on the TCP transport configuration URI in the ActiveMQ configuration file (e.g., activemq.xml)`;
    }
    if (this.connectionCount >= this.fileLimit - FILE_RESERVE) {
      return `Too many open files: the process limit of ${this.fileLimit} leaves no room for another connection`;
    }
    return null;
  }

  private acceptFailed(spec: TransportConnectorSpec, err: NodeJS.ErrnoException): void {
    this.warnRateLimited(`Could not accept connection on ${spec.text}: ${err.code ?? err.message}`);
  }

  private warnRateLimited(message: string): void {
    const now = Date.now();
    if (now - this.lastAcceptWarning < 1000) return;
    this.lastAcceptWarning = now;
    this.logger.warn(message);
  }

  private async openAdmin(uri: string): Promise<void> {
    const u = parseSimpleUri(uri);
    if (u.scheme !== 'http') throw new AdminError(`The admin endpoint must be an http:// URI, not ${uri}`);
    this.admin = await listenAdmin(u.host || '127.0.0.1', u.port < 0 ? 8161 : u.port, {
      status: () => this.status(),
      health: () => ({ ok: this.role !== 'stopped', role: this.role }),
      command: async (extension, action, args) => {
        const ext = this.extension(extension);
        if (!ext) throw new AdminError(`No extension '${extension}' in this broker`, 404);
        if (this.role !== 'master') throw new AdminError(`This broker is ${this.role}, not serving`, 409);
        return ext.command(action, args);
      },
    });
    this.logger.info({ uri, port: this.admin.port }, `Admin endpoint at http://${u.host || '127.0.0.1'}:${this.admin.port}/api/status`);
  }

  extension(name: string): BrokerExtension | undefined {
    return this.extensions.find((e) => e.name === name);
  }

  /** The port of the admin endpoint, when there is one. */
  get adminPort(): number | null {
    return this.admin?.port ?? null;
  }

  private bridgeOpened(connection: StompConnection, hello: BridgeHello): void {
    this.inboundBridges.set(connection, { hello, since: Date.now() });
    if (hello.duplex) this.logger.info({ remote: hello.brokerName }, `Started responder end of duplex bridge ${hello.connector}@${hello.brokerId}`);
    this.logger.info(
      { remote: hello.brokerName, address: connection.remoteAddress },
      `Network connection between vm://${this.config.brokerName} and ${connection.remoteAddress} (${hello.brokerName}) has been established.`,
    );
    this.advisories.bridgeStarted({ bridgeId: connection.connectionId, remoteBrokerName: hello.brokerName, remoteAddress: connection.remoteAddress, createdByDuplex: hello.duplex, localBrokerName: this.config.brokerName });
  }

  private bridgeClosed(connection: StompConnection, hello: BridgeHello): void {
    if (!this.inboundBridges.delete(connection)) return;
    this.logger.info({ remote: hello.brokerName }, `${this.config.brokerName} bridge to ${hello.brokerName} stopped`);
    this.advisories.bridgeStopped(connection.connectionId);
  }

  private claimClientId(clientId: string, connection: StompConnection): string | null {
    const holder = this.clientIds.get(clientId);
    if (holder && holder !== connection) return `Broker: ${this.config.brokerName} - Client: ${clientId} already connected from ${holder.remoteAddress}`;
    this.clientIds.set(clientId, connection);
    return null;
  }

  private connectionClosed(connection: StompConnection): void {
    for (const c of this.connectors) {
      if (c.connections.delete(connection)) this.connectionCount--;
    }
    if (connection.clientId !== undefined && this.clientIds.get(connection.clientId) === connection) this.clientIds.delete(connection.clientId);
  }

  /** Where each connector listens, e.g. `stomp://127.0.0.1:61613`. */
  get addresses(): ConnectorStatus[] {
    return this.connectors.map((c) => ({ uri: c.spec.text, address: c.address, port: c.server.port, connections: c.connections.size }));
  }

  /** The port of the first connector of a kind, handy for tests and tools. */
  port(kind: 'stomp' | 'ws' = 'stomp'): number {
    const c = this.connectors.find((x) => x.spec.kind === kind);
    if (!c) throw new Error(`No ${kind} connector`);
    return c.server.port;
  }

  status(): Record<string, unknown> {
    return {
      brokerName: this.config.brokerName,
      brokerId: this.brokerId,
      pid: process.pid,
      role: this.role,
      lock: this.lock ? { path: this.lock.lockPath, held: this.lock.held, holder: this.lock.holder() } : null,
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      connectors: this.addresses,
      connections: this.connectionCount,
      memory: { pendingBytes: this.router.memoryInUse, limit: this.config.policy.memoryLimit, rss: process.memoryUsage().rss },
      store: this.store.describe(),
      queues: [...this.router.queues.values()].map((q) => ({
        name: q.destination.name,
        pending: q.pending.size,
        consumers: q.consumerCount,
        ...q.stats,
      })),
      topics: [...this.router.topics.values()].map((t) => ({ name: t.destination.name, subscriptions: t.subscriptions.size, ...t.stats })),
      durableSubscriptions: [...this.router.durableSubscriptions.values()].map((s) => ({ key: s.durable!.key, destination: s.destination.name, active: s.consumer !== null, pending: s.queue.pending.size })),
      inboundBridges: [...this.inboundBridges].map(([c, b]) => ({
        remoteBrokerName: b.hello.brokerName,
        remoteAddress: c.remoteAddress,
        connector: b.hello.connector,
        createdByDuplex: b.hello.duplex,
        since: new Date(b.since).toISOString(),
        ...c.describe(),
      })),
      ...Object.fromEntries(this.extensions.map((e) => [e.name, e.status()])),
    };
  }

  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  private finish(outcome: BrokerOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.settle(outcome);
  }

  /**
   * The lock is no longer surely ours: stop serving at once and append
   * nothing more (the store's guard already refuses), as ActiveMQ's locker
   * does when keepAlive fails.
   */
  private fence(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.logger.error({ reason }, `${this.config.brokerName}, no longer able to keep the exclusive lock so giving up being a master: ${reason}`);
    this.finishAs('fenced');
  }

  private fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    this.logger.error({ reason }, `${this.config.brokerName}, stopping: ${reason}`);
    this.finishAs('failed');
  }

  private finishAs(outcome: BrokerOutcome): void {
    this.stoppedBecause = outcome;
    void this.stop();
  }

  private async shutdown(): Promise<void> {
    const name = this.title;
    const wasServing = this.role === 'master' || this.role === 'starting';
    this.role = 'stopping';
    if (wasServing) this.logger.info(`${name} is shutting down`);
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    for (const ext of this.extensions) await ext.stop().catch((err: Error) => this.logger.warn({ err: err.message, extension: ext.name }, `Stopping ${ext.name} failed: ${err.message}`));
    await this.closeConnectors();
    if (wasServing) await this.store.close();
    await this.lock?.close();
    await this.admin?.close();
    this.role = 'stopped';
    if (wasServing) {
      this.logger.info({ uptimeSeconds: (Date.now() - this.startedAt) / 1000 }, `${name} uptime ${((Date.now() - this.startedAt) / 1000).toFixed(3)} seconds`);
      this.logger.info(`${name} is shutdown`);
    }
    this.finish(this.stoppedBecause);
  }

  private async closeConnectors(): Promise<void> {
    for (const c of this.connectors) {
      for (const conn of [...c.connections]) conn.close();
      await c.server.close();
      this.logger.info(`Connector ${c.spec.scheme} stopped`);
    }
    this.connectors.length = 0;
  }
}

/** The soft limit on open files, from /proc on Linux; unlimited elsewhere. */
function readOpenFileLimit(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (m && m[1] !== 'unlimited') return Number(m[1]);
  } catch {
    /* not Linux */
  }
  return Number.MAX_SAFE_INTEGER;
}

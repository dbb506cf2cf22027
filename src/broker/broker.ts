import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrokerConfig, type PartialBrokerConfig, resolveBrokerConfig } from '../config/broker-config.js';
import { type Logger, silentLogger } from '../config/logger.js';
import { StoreLock } from '../lock/store-lock.js';
import { JournalStore } from '../store/journal-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { MessageStore } from '../store/types.js';
import { adminError, configError, isLockWaitAborted, type ProtocolError, protocolError, StoreError } from '../errors.js';
import { type AdminServer, listenAdmin } from './admin-server.js';
import { Advisories } from './advisories.js';
import type { BrokerExtension, ExtensionHost } from './extension.js';
import { parseSimpleUri } from '../config/uri.js';
import { IdGenerator } from './core/ids.js';
import type { BrokerMessage } from './core/message.js';
import { PolicyMap } from './core/policy-map.js';
import { MessageRouter } from './core/router.js';
import { SystemUsage } from './core/usage.js';
import { type ConnectionContext, ERROR_CODE_HEADER, StompConnection } from './stomp/connection.js';
import { FrameBuffers } from './stomp/frame-buffers.js';
import type { PeerProtocol } from './stomp/peer.js';
import { DEFAULT_CONNECTION_OPTIONS, parseTransportUri, type TransportConnectorSpec } from './connector-uri.js';
import { BACKLOG_HIGH_WATER, isLoopbackHost, type Link } from '../transport/link.js';
import { type ListeningServer, listenTcp } from '../transport/tcp.js';
import { listenWebSocket } from '../transport/websocket.js';
import { readTlsFiles, type TlsMaterial } from '../transport/tls.js';
import type { TlsOptions } from 'node:tls';
import { compileSelector } from './core/selector.js';
import { VERSION } from './version.js';
import type { BrokerStatus, ConnectorStatus } from './status.js';
import { DEFAULT_VIRTUAL_TOPIC } from '../config/virtual-topics.js';
import { BrokerManagement } from '../console/management.js';
import { bridgesOf } from '../console/bridge-view.js';
import { BrokerMetrics } from '../console/metrics.js';
import { consoleAsset } from '../console/assets.js';
import { Security } from '../security/security.js';
import { JobScheduler } from './scheduler/job-scheduler.js';
import { SCHEDULER_HOLDER } from '../store/holders.js';
import { createHeaders, encodeFrame } from '../stomp/index.js';

export interface BrokerDependencies {
  logger?: Logger;
  /** Overrides the store the config would choose. */
  store?: MessageStore;
  /** Installed when the broker is made, started once it serves (the network of brokers). */
  extensions?: BrokerExtension[];
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
export class Broker implements ExtensionHost {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly ids = new IdGenerator();
  readonly brokerId: string;
  readonly router: MessageRouter;
  readonly advisories: Advisories;
  readonly security: Security;
  private tls: TlsMaterial | null = null;
  readonly store: MessageStore;
  /** Where non-persistent messages spill when a destination's producers are not flow-controlled; null when none is configured so. */
  readonly tempStore: JournalStore | null;
  readonly startedAt = Date.now();
  private readonly connectors: RunningConnector[] = [];
  /** Every connection, whatever its transport (connectors, or links handed to `handle`). */
  private readonly connections = new Set<StompConnection>();
  private readonly clientIds = new Map<string, StompConnection>();
  private readonly peerProtocols: PeerProtocol[] = [];
  private readonly reservedHeaders = new Set<string>();
  private readonly connectionContext: ConnectionContext;
  private readonly fileLimit = readOpenFileLimit();
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
  /** ActiveMQ's job scheduler, with schedulerSupport. */
  readonly scheduler: JobScheduler | null;

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
    this.security = new Security(config.plugins, config.bridgeAuthentication);
    this.store = deps.store ?? this.createStore(config);
    this.tempStore = this.createTempStore(config, config.persistent && !deps.store);
    const u = config.systemUsage;
    this.router = new MessageRouter({
      brokerName: config.brokerName,
      policy: config.policy,
      policies: new PolicyMap(config.policy, config.policyEntries),
      usage: new SystemUsage({
        memoryLimit: u.memoryUsage.limit,
        storeLimit: u.storeUsage.limit,
        tempLimit: u.tempUsage.limit,
        store: this.store,
        temp: this.tempStore,
      }),
      store: this.store,
      tempStore: this.tempStore,
      logger: this.logger,
      newId: (kind) => this.ids.next(kind),
      virtualTopics: config.virtualTopics.map((v) => ({ ...DEFAULT_VIRTUAL_TOPIC, ...v })),
    });
    this.scheduler = config.schedulerSupport
      ? new JobScheduler({ router: this.router, store: this.store, logger: this.logger, newId: (kind) => this.ids.next(kind), startRounding: config.schedulerStartRounding })
      : null;
    this.router.interceptor = this.scheduler;
    this.advisories = new Advisories(this.router, { brokerName: config.brokerName, brokerId: this.brokerId, brokerURL: () => this.brokerURL });
    this.extensions = deps.extensions ?? [];
    this.connectionContext = {
      brokerName: config.brokerName,
      server: `amq-sim/${VERSION}`,
      router: this.router,
      advisories: this.advisories,
      ids: this.ids,
      logger: this.logger,
      compileSelector,
      claimClientId: (clientId, connection) => this.claimClientId(clientId, connection),
      connectionClosed: (connection) => this.connectionClosed(connection),
      peerProtocols: this.peerProtocols,
      reservedHeaders: this.reservedHeaders,
      security: this.security,
      flowControl: { sendFailIfNoSpace: u.sendFailIfNoSpace, sendFailIfNoSpaceAfterTimeout: u.sendFailIfNoSpaceAfterTimeout },
      // Incomplete frames may take a quarter of the memory limit, all connections together.
      frameBuffers: new FrameBuffers(Math.floor(u.memoryUsage.limit / 4)),
    };
    if (config.networkConnectors.length > 0 && !this.extensions.some((e) => e.name === 'network')) {
      throw configError('CONFIG_INVALID', 'networkConnectors need the network extension: start the broker with startBroker() (src/index.ts) or amq-sim broker');
    }
    for (const ext of this.extensions) ext.install(this);
  }

  get brokerName(): string {
    return this.config.brokerName;
  }

  /** This broker's address: its first transport connector (as it listens, once it does). */
  /** What this broker's bridges present when they dial another broker without credentials of their own. */
  /** The sslContext's PEM files, read once at start: TLS connectors serve with them, bridges dial with them. */
  get tlsMaterial(): TlsMaterial {
    this.tls ??= readTlsFiles(this.config.sslContext);
    return this.tls;
  }

  get bridgeSecret(): string | null {
    return this.config.bridgeAuthentication.secret;
  }

  get brokerURL(): string {
    return this.connectors[0]?.address ?? this.specs[0]?.text ?? '';
  }

  newId(kind: string): string {
    return this.ids.next(kind);
  }

  addPeerProtocol(protocol: PeerProtocol): void {
    this.peerProtocols.push(protocol);
    for (const h of protocol.reservedHeaders) this.reservedHeaders.add(h);
  }

  private createStore(config: BrokerConfig): MessageStore {
    if (!config.persistent) return new MemoryStore();
    return new JournalStore({
      ...config.store,
      logger: this.logger,
      guard: () => this.lock?.guard() ?? null,
      onFailure: (err) => {
        if (err instanceof StoreError && err.code === 'STORE_FENCED') this.fence(err.message);
        else this.fail(`the store failed: ${err.message}`);
      },
    });
  }

  /**
   * The temp store (ActiveMQ's `tmp_storage`), for destinations whose
   * producers are not flow-controlled: their non-persistent messages go there
   * when memory is full. Emptied at every start, as in ActiveMQ.
   */
  private createTempStore(config: BrokerConfig, inStoreDirectory: boolean): JournalStore | null {
    if (config.policy.producerFlowControl && config.policyEntries.every((e) => e.producerFlowControl !== false)) return null;
    const directory = config.tempDirectory ?? (inStoreDirectory ? join(config.store.directory, 'tmp_storage') : join(tmpdir(), `amq-sim-tmp-${this.brokerId}`));
    return new JournalStore({ directory, logger: this.logger.child({ store: 'temp' }), journalDiskSyncStrategy: 'never', checkpointInterval: 0, cleanupInterval: 5000 });
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
   * LOCK_WAIT_ABORTED when stopped while waiting.
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
        if (isLockWaitAborted(err)) this.logger.info('Attempt to obtain lock aborted due to shutdown');
        this.role = 'stopped';
        this.finish('stopped');
        throw err;
      }
      this.logger.info({ lock: this.lock.lockPath, waitedSeconds: round3(waited) }, `Lock acquired on ${this.lock.lockPath}${waited > 0.5 ? ` after waiting ${waited.toFixed(1)} s` : ''}: this broker is the master`);
      this.lock.onLost((reason) => this.fence(reason));
    }
    this.role = 'starting';
    await this.run();
  }

  private async run(): Promise<void> {
    const name = this.title;
    const t0 = performance.now();
    if (this.tempStore) {
      rmSync(this.tempStore.directory, { recursive: true, force: true });
      await this.tempStore.recover();
    }
    const state = await this.store.recover();
    const recovered = this.router.recover(state, (record) => this.durableFilter(record.selector, record.noLocal));
    await this.scheduler?.recover();
    const jobs = this.scheduler ? 0 : this.store.backlog(SCHEDULER_HOLDER).size;
    if (jobs > 0) this.logger.warn({ jobs }, `The store holds ${jobs} scheduled jobs, which wait until the broker runs with schedulerSupport`);
    const seconds = round3((performance.now() - t0) / 1000);
    this.logger.info(
      { operations: state.operations, seconds, messages: recovered },
      `Recovery replayed ${state.operations} operations from the journal in ${seconds.toFixed(3)} seconds.`,
    );
    this.checkStoreLimit();
    this.logger.info(`${name} is starting`);
    try {
      for (const spec of this.specs) await this.openConnector(spec);
    } catch (err) {
      await this.closeConnectors();
      await this.store.close();
      await this.closeTempStore();
      await this.lock?.close();
      this.role = 'stopped';
      this.finish('failed');
      throw err;
    }
    if (this.stopping) return;
    this.role = 'master';
    this.scheduler?.start();
    for (const ext of this.extensions) await ext.start();
    if (this.config.policy.expireMessagesPeriod > 0) {
      this.expiryTimer = setInterval(() => this.router.expireSweep(), this.config.policy.expireMessagesPeriod);
      this.expiryTimer.unref();
    }
    this.logger.info(`${name} started`);
  }

  /** ActiveMQ's start-up checks of the store limit against the journal's file size and the disk's room, in its words. */
  private checkStoreLimit(): void {
    if (!this.config.persistent || !this.store.pagesOut) return;
    const mb = (bytes: number) => Math.floor(bytes / (1024 * 1024));
    const usage = this.router.usage.store;
    const maxFile = this.config.store.journalMaxFileLength;
    if (usage.limit < maxFile) {
      this.logger.error(`Store limit is ${mb(usage.limit)} mb, whilst the max journal file size for the store is ${mb(maxFile)} mb, the store will not accept any data when used.`);
    }
    const space = this.store.space();
    if (usage.limit > space.used + space.available) {
      this.logger.warn(
        `Store limit is ${mb(usage.limit)} mb (current store usage is ${mb(space.used)} mb). The data directory: ${this.config.store.directory} only has ${mb(space.available)} mb of usable space. - resetting to maximum available disk space: ${mb(space.used + space.available)} mb`,
      );
    }
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
    const secure = spec.tls ? this.serverTls(spec) : undefined;
    connector.server =
      spec.kind === 'stomp'
        ? await listenTcp(spec.scheme, spec.host, spec.port, accept, onError, secure)
        : await listenWebSocket(spec.host, spec.port, spec.connection.limits.maxFrameSize, BACKLOG_HIGH_WATER, accept, onError, secure);
    connector.address = `${spec.scheme}://${spec.host}:${connector.server.port}`;
    this.connectors.push(connector);
    this.logger.info({ uri: connector.address + spec.query }, `Listening for connections at: ${connector.address}${spec.query}`);
    this.logger.info(`Connector ${spec.scheme} started`);
  }

  /** A TLS connector's key, certificate and, with needClientAuth, the CA client certificates must chain to. */
  private serverTls(spec: TransportConnectorSpec): TlsOptions {
    const { key, cert, ca } = this.tlsMaterial;
    if (!key || !cert) throw configError('CONFIG_INVALID', `${spec.text} needs sslContext.keyFile and sslContext.certFile (PEM)`);
    if (spec.needClientAuth && !ca) throw configError('CONFIG_INVALID', `${spec.text} has needClientAuth=true: sslContext.caFile must name the CA of the client certificates`);
    const versions = [...spec.enabledProtocols].sort();
    return { key, cert, ca, requestCert: spec.needClientAuth, rejectUnauthorized: spec.needClientAuth, minVersion: versions[0], maxVersion: versions.at(-1) };
  }

  private accept(connector: RunningConnector, link: Link): void {
    const refusal = this.refusal(connector);
    if (refusal) {
      link.start({ data: () => {}, drain: () => {}, closed: () => {} });
      const headers = createHeaders({ message: refusal.message, [ERROR_CODE_HEADER]: refusal.code, 'content-type': 'text/plain' });
      link.write(encodeFrame({ command: 'ERROR', headers, body: Buffer.from(refusal.message + '\n') }, '1.0'));
      link.end();
      this.warnRateLimited(`${refusal.message} (connection from ${link.remoteAddress} refused)`);
      return;
    }
    connector.connections.add(this.handle(link, connector.spec.connection));
  }

  /**
   * Serves one client over any Link (aedes' `handle(stream)`): the transport
   * connectors hand theirs here, and tests an in-memory one (transport/memory.ts).
   */
  handle(link: Link, options = DEFAULT_CONNECTION_OPTIONS): StompConnection {
    const connection = new StompConnection(link, this.connectionContext, options);
    this.connections.add(connection);
    return connection;
  }

  private refusal(connector: RunningConnector): ProtocolError | null {
    if (this.stopping) return protocolError('STOMP_SHUTTING_DOWN');
    if (connector.connections.size >= connector.spec.maximumConnections) return protocolError('STOMP_MAX_CONNECTIONS');
    if (this.connections.size >= this.fileLimit - FILE_RESERVE) return protocolError('STOMP_FILE_LIMIT', this.fileLimit);
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
    if (u.scheme !== 'http') throw configError('CONFIG_INVALID', `The admin endpoint must be an http:// URI, not ${uri}`);
    const host = u.host || '127.0.0.1';
    const { adminUser, adminPassword } = this.config;
    if ((adminUser === null) !== (adminPassword === null)) throw configError('CONFIG_INVALID', 'Set both adminUser and adminPassword, or neither');
    if (adminUser === null && !isLoopbackHost(host)) {
      throw configError('CONFIG_INVALID', `The admin endpoint ${uri} is reachable from other hosts: set adminUser and adminPassword (--admin-user, AMQ_SIM_ADMIN_PASSWORD)`);
    }
    const credentials = adminUser !== null && adminPassword !== null ? { user: adminUser, password: adminPassword } : null;
    const management = new BrokerManagement({
      brokerName: this.config.brokerName,
      router: this.router,
      ids: this.ids,
      connections: () => this.connections,
      bridges: () => bridgesOf(this.status()),
      scheduler: this.scheduler,
    });
    const metrics = new BrokerMetrics(() => this.status());
    this.admin = await listenAdmin(
      host,
      u.port < 0 ? 8161 : u.port,
      {
        status: () => this.status(),
        health: () => ({ ok: this.role !== 'stopped', role: this.role }),
        metrics: () => metrics.scrape(),
        asset: (path) => consoleAsset(path),
        command: async (extension, action, args) => {
          if (this.role !== 'master') throw adminError(409, 'ADMIN_NOT_SERVING', this.role);
          if (extension === 'broker') return management.run(action, args);
          const ext = this.extension(extension);
          if (!ext) throw adminError(404, 'ADMIN_NOT_FOUND', `No extension '${extension}' in this broker`);
          return ext.command(action, args);
        },
      },
      credentials,
    );
    // ActiveMQ's line for its console, which operators look for.
    this.logger.info({ uri, port: this.admin.port, status: '/api/status', metrics: '/metrics' }, `ActiveMQ WebConsole available at http://${host}:${this.admin.port}/`);
  }

  extension(name: string): BrokerExtension | undefined {
    return this.extensions.find((e) => e.name === name);
  }

  /** The port of the admin endpoint, when there is one. */
  get adminPort(): number | null {
    return this.admin?.port ?? null;
  }

  private claimClientId(clientId: string, connection: StompConnection): void {
    const holder = this.clientIds.get(clientId);
    if (holder && holder !== connection) throw protocolError('STOMP_CLIENT_ID_IN_USE', this.config.brokerName, clientId, holder.remoteAddress);
    this.clientIds.set(clientId, connection);
  }

  private connectionClosed(connection: StompConnection): void {
    this.connections.delete(connection);
    for (const c of this.connectors) c.connections.delete(connection);
    if (connection.clientId !== undefined && this.clientIds.get(connection.clientId) === connection) this.clientIds.delete(connection.clientId);
  }

  /** Where each connector listens, e.g. `stomp://127.0.0.1:61613`. */
  get addresses(): ConnectorStatus[] {
    return this.connectors.map((c) => ({ uri: c.spec.text, address: c.address, port: c.server.port, connections: c.connections.size }));
  }

  /** The port of the first connector of a kind (`stomp`, `ws`) or scheme (`stomp+ssl`, `wss`). */
  port(kind = 'stomp'): number {
    const c = this.connectors.find((x) => x.spec.kind === kind || x.spec.scheme === kind);
    if (!c) throw configError('CONFIG_INVALID', `No ${kind} connector`);
    return c.server.port;
  }

  status(): BrokerStatus {
    return {
      brokerName: this.config.brokerName,
      brokerId: this.brokerId,
      pid: process.pid,
      role: this.role,
      lock: this.lock ? { path: this.lock.lockPath, held: this.lock.held, holder: this.lock.holder(), pollMs: this.config.locker.lockAcquireSleepInterval } : null,
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      connectors: this.addresses,
      connections: this.connections.size,
      usage: this.router.usage.describe(),
      rss: process.memoryUsage().rss,
      store: this.store.describe(),
      queues: [...this.router.queues.values()].map((q) => ({
        name: q.destination.name,
        pending: q.size,
        inStore: q.backlog,
        memory: q.memoryUsage,
        consumers: q.consumerCount,
        ...q.stats,
      })),
      topics: [...this.router.topics.values()].map((t) => ({ name: t.destination.name, subscriptions: t.subscriptions.size, ...t.stats })),
      scheduler: this.scheduler?.describe() ?? null,
      durableSubscriptions: [...this.router.durableSubscriptions.values()].map((s) => ({ key: s.durable!.key, destination: s.destination.name, active: s.consumer !== null, pending: s.queue.size })),
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
    this.scheduler?.stop();
    for (const ext of this.extensions) await ext.stop().catch((err: Error) => this.logger.warn({ err: err.message, extension: ext.name }, `Stopping ${ext.name} failed: ${err.message}`));
    await this.closeConnectors();
    if (wasServing) await this.store.close();
    if (wasServing) await this.closeTempStore();
    this.router.usage.stop();
    await this.lock?.close();
    await this.admin?.close();
    this.role = 'stopped';
    if (wasServing) {
      const uptime = round3((Date.now() - this.startedAt) / 1000);
      this.logger.info({ uptimeSeconds: uptime }, `${name} uptime ${uptime.toFixed(3)} seconds`);
      this.logger.info(`${name} is shutdown`);
    }
    this.finish(this.stoppedBecause);
  }

  private async closeTempStore(): Promise<void> {
    if (!this.tempStore) return;
    await this.tempStore.close();
    rmSync(this.tempStore.directory, { recursive: true, force: true });
  }

  private async closeConnectors(): Promise<void> {
    for (const conn of [...this.connections]) conn.close();
    for (const c of this.connectors) {
      await c.server.close();
      this.logger.info(`Connector ${c.spec.scheme} stopped`);
    }
    this.connectors.length = 0;
  }
}

/** Seconds for a log field: to the millisecond, without float noise. */
function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
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

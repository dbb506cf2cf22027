import { readFileSync } from 'node:fs';
import { type BrokerConfig, type PartialBrokerConfig, resolveBrokerConfig } from '../config/broker-config.js';
import { type Logger, silentLogger } from '../config/logger.js';
import { JournalStore } from '../store/journal-store.js';
import { MemoryStore } from '../store/memory-store.js';
import type { MessageStore } from '../store/types.js';
import { IdGenerator } from './ids.js';
import type { BrokerMessage } from './message.js';
import { MessageRouter } from './router.js';
import { type ConnectionContext, StompConnection } from './stomp-connection.js';
import { parseTransportUri, type TransportConnectorSpec } from './transport/connector-uri.js';
import { BACKLOG_HIGH_WATER, type Link } from './transport/link.js';
import { type ListeningServer, listenTcp } from './transport/tcp.js';
import { listenWebSocket } from './transport/websocket.js';
import { VERSION } from './version.js';
import { createHeaders, encodeFrame } from '../stomp/index.js';

export interface BrokerDependencies {
  logger?: Logger;
  /** Overrides the store the config would choose. */
  store?: MessageStore;
  /** Asked before every journal write: why this broker may no longer write (it lost its lock), or null. */
  storeGuard?: () => string | null;
  /** The broker had to stop on its own (its store failed or was fenced). Default: nothing more. */
  onFatal?: (err: Error) => void;
  /** Compiles `selector` headers; without one, SUBSCRIBE with a selector is refused. */
  compileSelector?: (text: string) => (m: BrokerMessage) => boolean;
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

/**
 * One broker: its transport connectors, its destinations and its store. Start
 * with `Broker.start(config)`, stop with `stop()`.
 */
export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  readonly ids = new IdGenerator();
  readonly brokerId: string;
  readonly router: MessageRouter;
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

  private constructor(config: BrokerConfig, deps: BrokerDependencies) {
    this.config = config;
    this.logger = (deps.logger ?? silentLogger()).child({ broker: config.brokerName });
    this.brokerId = this.ids.runId;
    this.store = deps.store ?? this.createStore(config, deps);
    this.router = new MessageRouter({ brokerName: config.brokerName, policy: config.policy, store: this.store, logger: this.logger, newId: (kind) => this.ids.next(kind) });
    const compileSelector =
      deps.compileSelector ??
      (() => {
        throw new Error('selectors are not available in this broker');
      });
    this.connectionContext = {
      brokerName: config.brokerName,
      server: `amq-sim/${VERSION}`,
      router: this.router,
      ids: this.ids,
      logger: this.logger,
      compileSelector,
      claimClientId: (clientId, connection) => this.claimClientId(clientId, connection),
      connectionClosed: (connection) => this.connectionClosed(connection),
    };
  }

  private createStore(config: BrokerConfig, deps: BrokerDependencies): MessageStore {
    if (!config.persistent) return new MemoryStore();
    return new JournalStore({
      ...config.store,
      logger: this.logger,
      guard: deps.storeGuard,
      onFailure: (err) => {
        this.logger.error({ err: err.message }, `${this.config.brokerName}, the store failed, stopping: ${err.message}`);
        void this.stop().then(() => deps.onFatal?.(err));
      },
    });
  }

  static async start(config: PartialBrokerConfig | BrokerConfig = {}, deps: BrokerDependencies = {}): Promise<Broker> {
    const resolved = resolveBrokerConfig(config as PartialBrokerConfig);
    const specs = resolved.transportConnectors.map(parseTransportUri);
    const broker = new Broker(resolved, deps);
    await broker.run(specs);
    return broker;
  }

  private async run(specs: TransportConnectorSpec[]): Promise<void> {
    const name = `amq-sim ${VERSION} (${this.config.brokerName}, ${this.brokerId})`;
    this.logger.info(`Using Persistence Adapter: ${JSON.stringify(this.store.describe())}`);
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
      for (const spec of specs) await this.openConnector(spec);
    } catch (err) {
      await this.closeConnectors();
      await this.store.close();
      throw err;
    }
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
    };
  }

  stop(): Promise<void> {
    if (!this.stopping) this.stopping = this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const name = `amq-sim ${VERSION} (${this.config.brokerName}, ${this.brokerId})`;
    this.logger.info(`${name} is shutting down`);
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    await this.closeConnectors();
    await this.store.close();
    this.logger.info({ uptimeSeconds: (Date.now() - this.startedAt) / 1000 }, `${name} uptime ${((Date.now() - this.startedAt) / 1000).toFixed(3)} seconds`);
    this.logger.info(`${name} is shutdown`);
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

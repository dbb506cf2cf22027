/**
 * One network bridge: a STOMP connection from this broker to another, kept
 * up with ActiveMQ's reconnect back-off (./dialer). While it is up, Push
 * forwards what the remote broker's consumers want, Pull (duplex bridges)
 * brings here what this broker's consumers want, and the ProgressWatchdog
 * tears the link down when it stops moving. Heart-beats on the connection
 * catch a link that died silently.
 */
import type { ExtensionHost } from '../../broker/extension.js';
import type { BrokerAddress } from '../../client/failover-uri.js';
import type { LinkFault, Session } from '../../client/session.js';
import type { Logger } from '../../config/logger.js';
import { networkError } from '../../errors.js';
import { createHeaders, type Frame } from '../../stomp/index.js';
import { type FaultAction, type NetworkOptions, networkProperties } from '../connector-config.js';
import { advisoryRemoteIp, type BrokerIdentity, NetworkDuplicates } from '../protocol.js';
import type { BridgeContext, BridgeStats } from './context.js';
import { Dialer } from './dialer.js';
import { Pull } from './pull.js';
import { ADVISORY_SUBSCRIPTION, Push } from './push.js';
import { ProgressWatchdog } from './watchdog.js';

export type BridgeState = 'connecting' | 'up' | 'backoff' | 'stopped';

export interface BridgeStatus {
  name: string;
  connector: string;
  addresses: string[];
  remoteBrokerName: string | null;
  state: BridgeState;
  since: string;
  duplex: boolean;
  forwarded: number;
  /** Frames the forwarded messages went in (batches). */
  forwardedFrames: number;
  acknowledged: number;
  inFlight: number;
  received: number;
  /** Frames the received messages came in (batches). */
  receivedFrames: number;
  lastActivity: string | null;
  demand: { forwarding: Array<{ destination: string; consumers: number }>; pulling: Array<{ destination: string; consumers: number }> };
  reconnects: number;
  stalls: number;
  fault: LinkFault | null;
  lastError: string | null;
}

interface Up {
  ctx: BridgeContext;
  push: Push;
  pull: Pull | null;
  address: BrokerAddress;
}

export class NetworkBridge {
  readonly name: string;
  private state: BridgeState = 'connecting';
  private since = Date.now();
  private remote: BrokerIdentity | null = null;
  private current: Up | null = null;
  private readonly dialer: Dialer;
  private readonly duplicates: NetworkDuplicates;
  private readonly stats: BridgeStats = { forwarded: 0, forwardedFrames: 0, acknowledged: 0, received: 0, receivedFrames: 0, reconnects: 0, stalls: 0, lastActivity: 0, lastError: null };
  private readonly logger: Logger;
  private stopped = false;

  constructor(
    private readonly host: ExtensionHost,
    readonly options: NetworkOptions,
    private readonly addresses: BrokerAddress[],
  ) {
    this.name = `${options.name}->${addresses.map((a) => `${a.host}:${a.port}`).join('|')}`;
    this.logger = host.logger.child({ bridge: this.name });
    this.duplicates = new NetworkDuplicates(host.brokerName);
    this.dialer = new Dialer(host, options, addresses, this.logger, {
      state: (s) => this.setState(s),
      connected: (session, remote, address) => this.up(session, remote, address),
      failed: (reason) => (this.stats.lastError = reason),
    });
  }

  get remoteName(): string {
    return this.remote?.brokerName ?? '';
  }

  start(): void {
    this.dialer.start();
  }

  private setState(state: BridgeState): void {
    this.state = state;
    this.since = Date.now();
  }

  private up(session: Session, remote: BrokerIdentity, address: BrokerAddress): void {
    const local = this.host.brokerName;
    this.remote = remote;
    this.stats.lastActivity = Date.now();
    this.setState('up');
    let sequence = 0;
    const watchdog = new ProgressWatchdog(
      this.options.progressTimeout,
      (reason) => this.stalled(session, reason),
      () => {
        const tx = `probe-${++sequence}`;
        ctx.send('BEGIN', { transaction: tx });
        ctx.request('ABORT', { transaction: tx }, 'a progress probe');
      },
    );
    const ctx: BridgeContext = {
      host: this.host,
      options: this.options,
      logger: this.logger,
      name: this.name,
      local,
      remote: remote.brokerName,
      session,
      watchdog,
      stats: this.stats,
      isUp: () => this.current?.ctx.session === session && session.isOpen,
      nextId: (prefix) => `${prefix}-${++sequence}`,
      send: (command, headers) => session.send({ command, headers: createHeaders(headers), body: Buffer.alloc(0) }),
      request: (command, headers, what) => {
        const receipt = `req-${++sequence}`;
        watchdog.expect(receipt, what);
        session.send({ command, headers: createHeaders({ ...headers, receipt }), body: Buffer.alloc(0) });
      },
    };
    const push = new Push(ctx);
    const pull = this.options.duplex ? new Pull(ctx, this.duplicates) : null;
    this.current = { ctx, push, pull, address };
    session.onFrame = (f) => this.onFrame(f);
    session.onClose = (err) => this.down(session, err);
    this.logger.info({ remote: remote.brokerName, address: address.url }, `Network connection between vm://${local} and ${address.url} (${remote.brokerName}) has been established.`);
    this.host.advisories.bridgeStarted({
      bridgeId: this.name,
      remoteBrokerName: remote.brokerName,
      remoteBrokerId: remote.brokerId,
      remoteBrokerURL: remote.brokerURL ?? address.url,
      remoteIp: advisoryRemoteIp(address.url),
      createdByDuplex: false,
      duplex: this.options.duplex,
      networkProperties: networkProperties(this.options),
    });
    push.start();
    pull?.start();
  }

  private onFrame(f: Frame): void {
    const up = this.current;
    if (!up) return;
    this.stats.lastActivity = Date.now();
    switch (f.command) {
      case 'MESSAGE':
        if (f.headers.subscription === ADVISORY_SUBSCRIPTION) up.push.onAdvisory(f.body);
        else if (!up.pull?.onMessage(f)) this.logger.warn({ subscription: f.headers.subscription }, `Ignored a MESSAGE from ${this.remoteName} for an unknown subscription ${f.headers.subscription}`);
        return;
      case 'RECEIPT': {
        const id = f.headers['receipt-id'];
        up.ctx.watchdog.answered(id);
        up.push.receipt(id);
        return;
      }
      case 'ERROR':
        this.logger.warn({ remote: this.remoteName, error: f.headers.message }, `The remote broker ${this.remoteName} refused a bridge frame: ${f.headers.message}`);
        return;
    }
  }

  private stalled(session: Session, reason: string): void {
    this.stats.stalls++;
    this.logger.warn({ remote: this.remoteName, reason }, `Network bridge to ${this.remoteName} stalled: ${reason}; reconnecting`);
    session.destroy(networkError('NETWORK_STALLED', reason));
  }

  private down(session: Session, err: Error): void {
    const up = this.current;
    if (!up || up.ctx.session !== session) return;
    this.current = null;
    up.ctx.watchdog.stop();
    up.pull?.stop();
    up.push.stop();
    const remote = this.remoteName;
    const local = this.host.brokerName;
    if (!this.stopped) {
      this.logger.warn({ remote, err: err.message }, `Network connection between vm://${local} and ${up.address.url} (${remote}) shutdown due to a remote error: ${err.message}`);
      this.stats.lastError = err.message;
    }
    this.logger.info({ remote }, `${local} bridge to ${remote} stopped`);
    this.host.advisories.bridgeStopped(this.name);
    if (this.stopped) return;
    this.stats.reconnects++;
    this.dialer.lost();
  }

  /** Fault injection (amq-sim is a simulator): see FAULT_ACTIONS. */
  injectFault(action: FaultAction, ms = 0): string {
    const session = this.current?.ctx.session;
    if (!session) return `${this.name}: not connected`;
    if (action === 'cut') {
      session.destroy(networkError('NETWORK_FAULT_CUT'));
      return `${this.name}: cut`;
    }
    const fault: LinkFault | null = action === 'heal' ? null : action === 'delay' ? { kind: 'delay', ms } : { kind: action };
    session.setFault(fault);
    this.logger.warn({ fault }, `Fault injected on bridge ${this.name}: ${action}${action === 'delay' ? ` ${ms} ms` : ''}`);
    return `${this.name}: ${action}`;
  }

  status(): BridgeStatus {
    const up = this.current;
    return {
      name: this.name,
      connector: this.options.name,
      addresses: this.addresses.map((a) => a.url),
      remoteBrokerName: this.remote?.brokerName ?? null,
      state: this.state,
      since: new Date(this.since).toISOString(),
      duplex: this.options.duplex,
      forwarded: this.stats.forwarded,
      forwardedFrames: this.stats.forwardedFrames,
      acknowledged: this.stats.acknowledged,
      inFlight: up?.push.inFlight ?? 0,
      received: this.stats.received,
      receivedFrames: this.stats.receivedFrames,
      lastActivity: this.stats.lastActivity ? new Date(this.stats.lastActivity).toISOString() : null,
      demand: { forwarding: up?.push.describe() ?? [], pulling: up?.pull?.describe() ?? [] },
      reconnects: this.stats.reconnects,
      stalls: this.stats.stalls,
      fault: up?.ctx.session.currentFault ?? null,
      lastError: this.stats.lastError,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dialer.stop();
    this.current?.ctx.session.destroy(networkError('NETWORK_STOPPED'));
    this.setState('stopped');
  }
}

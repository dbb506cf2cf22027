/**
 * Connecting a bridge, and again after it fell: the addresses in turn, with
 * ActiveMQ's reconnect back-off (initialReconnectDelay, backOffMultiplier,
 * maxReconnectDelay, maxReconnectAttempts, minConnectTime) for the attempts
 * it logs and counts.
 *
 * Better than ActiveMQ: while it waits out a back-off step after a link that
 * could not be reached (refused, unreachable, no answer), it tries again
 * quietly every PROBE_INTERVAL, so a link that comes back is used within a
 * second rather than at the next step (up to 30 s later). A remote that
 * answers and refuses the bridge is not probed: the back-off paces those.
 */
import { BRIDGE_SECRET_HEADER, type ExtensionHost } from '../../broker/extension.js';
import type { BrokerAddress } from '../../client/failover-uri.js';
import { Session, StompServerError } from '../../client/session.js';
import type { Logger } from '../../config/logger.js';
import { errorMessage } from '../../errors.js';
import { type NetworkOptions, networkProperties } from '../connector-config.js';
import { BRIDGE_HEADER, type BridgeHello, BROKER_HEADER, type BrokerIdentity, parseIdentity } from '../protocol.js';

const PROBE_INTERVAL = 500;

export interface DialerEvents {
  state(state: 'connecting' | 'backoff' | 'stopped'): void;
  connected(session: Session, remote: BrokerIdentity, address: BrokerAddress): void;
  failed(reason: string): void;
}

/** The remote answered and refused the bridge (not a link problem): no quiet retries. */
class Refused extends Error {}

export class Dialer {
  private attempts = 0;
  private delay: number;
  private nextAddress = 0;
  private upSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;
  private readonly hello: BridgeHello;

  constructor(
    private readonly host: ExtensionHost,
    private readonly options: NetworkOptions,
    private readonly addresses: BrokerAddress[],
    private readonly logger: Logger,
    private readonly events: DialerEvents,
  ) {
    this.delay = options.initialReconnectDelay;
    this.hello = { brokerName: host.brokerName, brokerId: host.brokerId, connector: options.name, duplex: options.duplex, networkProperties: networkProperties(options) };
  }

  start(): void {
    void this.connect();
  }

  /** The bridge's connection went down. */
  lost(): void {
    // ActiveMQ's minConnectTime: only a bridge that lived long enough starts its back-off over.
    if (Date.now() - this.upSince >= this.options.minConnectTime) {
      this.delay = this.options.initialReconnectDelay;
      this.attempts = 0;
    }
    this.scheduleReconnect(true);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.events.state('stopped');
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.timer = this.probeTimer = null;
  }

  private async connect(): Promise<void> {
    this.events.state('connecting');
    let last: Error | null = null;
    for (let i = 0; i < this.addresses.length && !this.stopped; i++) {
      const address = this.addresses[(this.nextAddress + i) % this.addresses.length];
      this.logger.info({ remote: address.url }, `Establishing network connection from vm://${this.host.brokerName} to ${address.url}`);
      try {
        const { session, remote } = await this.dial(address);
        if (this.stopped) return session.destroy();
        this.nextAddress = (this.nextAddress + i) % this.addresses.length;
        return this.connected(session, remote, address);
      } catch (err) {
        last = err as Error;
        this.logger.warn({ remote: address.url, err: last.message }, `Could not start network bridge between: vm://${this.host.brokerName} and: ${address.url} due to: ${last.message}`);
      }
    }
    if (this.stopped) return;
    this.nextAddress = (this.nextAddress + 1) % this.addresses.length;
    this.events.failed(last?.message ?? 'no address');
    this.scheduleReconnect(!(last instanceof Refused));
  }

  /** ActiveMQ's networkConnector userName/password when given, else the bridge secret when this broker has one. */
  private credentials(): Record<string, string> {
    const { userName, password } = this.options;
    if (userName !== null) return { login: userName, passcode: password ?? '' };
    const secret = this.host.bridgeSecret;
    return secret !== null ? { [BRIDGE_SECRET_HEADER]: secret } : {};
  }

  /** A session whose remote is an amq-sim broker other than this one. */
  private async dial(address: BrokerAddress): Promise<{ session: Session; remote: BrokerIdentity }> {
    const hb = this.options.bridgeHeartBeat;
    let session: Session;
    try {
      const hello: BridgeHello = { ...this.hello, brokerURL: this.host.brokerURL };
      session = await Session.open(address, {
        acceptVersion: '1.2',
        heartBeat: [hb, hb],
        heartBeatGrace: 2,
        connectTimeout: Math.max(2000, hb * 3),
        connectHeaders: { [BRIDGE_HEADER]: JSON.stringify(hello), ...this.credentials() },
        tls: this.host.tlsMaterial,
      });
    } catch (err) {
      if (err instanceof StompServerError) throw new Refused(err.message);
      throw err;
    }
    let remote: BrokerIdentity;
    try {
      remote = parseIdentity(session.connectedHeaders[BROKER_HEADER] ?? '');
    } catch {
      session.destroy();
      throw new Refused(errorMessage('NETWORK_NOT_AMQ_SIM', address.url, BROKER_HEADER));
    }
    if (remote.brokerName === this.host.brokerName) {
      session.destroy();
      throw new Refused(errorMessage('NETWORK_SAME_NAME', address.url, this.host.brokerName));
    }
    return { session, remote };
  }

  private connected(session: Session, remote: BrokerIdentity, address: BrokerAddress): void {
    this.clearTimers();
    this.upSince = Date.now();
    this.events.connected(session, remote, address);
  }

  private scheduleReconnect(probe: boolean): void {
    this.attempts++;
    if (this.options.maxReconnectAttempts > 0 && this.attempts > this.options.maxReconnectAttempts) {
      this.logger.warn(`Reconnect attempts exceeded ${this.options.maxReconnectAttempts} tries. Reconnecting has been disabled for: ${this.options.name}`);
      this.events.state('stopped');
      return;
    }
    const wait = this.delay;
    if (this.options.useExponentialBackOff) this.delay = Math.min(this.options.maxReconnectDelay, this.delay * this.options.backOffMultiplier);
    this.events.state('backoff');
    this.timer = setTimeout(() => {
      this.clearTimers();
      void this.connect();
    }, wait);
    if (probe && wait > PROBE_INTERVAL) this.probeTimer = setInterval(() => void this.probe(), PROBE_INTERVAL);
  }

  /** A quiet attempt during a back-off wait: used at once if it gets through. */
  private async probe(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    const address = this.addresses[this.nextAddress % this.addresses.length];
    this.nextAddress++;
    try {
      const { session, remote } = await this.dial(address);
      if (this.stopped || !this.probeTimer) return session.destroy();
      this.logger.info({ remote: address.url }, `Network connection to ${address.url} is back: reconnecting before the next back-off step`);
      this.connected(session, remote, address);
    } catch (err) {
      if (err instanceof Refused && this.probeTimer) {
        clearInterval(this.probeTimer);
        this.probeTimer = null;
      }
    } finally {
      this.probing = false;
    }
  }
}

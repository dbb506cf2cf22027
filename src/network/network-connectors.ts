/**
 * A broker's network connectors (ActiveMQ `networkConnectors`): one
 * NetworkBridge per remote in each connector URI. Runs as a broker extension,
 * so it starts once the broker serves and stops with it; admin commands
 * (`POST /api/network/<stall|cut|delay|heal>`) inject faults into bridges.
 */
import { AdminError } from '../broker/admin-server.js';
import type { Broker } from '../broker/broker.js';
import type { BrokerExtension } from '../broker/extension.js';
import { NetworkBridge, type BridgeStatus } from './bridge.js';
import { type NetworkConnectorSpec, parseNetworkUri } from './connector-config.js';

export class NetworkConnectors implements BrokerExtension {
  readonly name = 'network';
  private readonly specs: NetworkConnectorSpec[];
  private bridges: NetworkBridge[] = [];

  /** Parses every URI now, so a bad one stops the broker before it starts (ConfigError naming it). */
  constructor(uris: readonly string[]) {
    this.specs = uris.map((u) => parseNetworkUri(u));
  }

  async start(broker: Broker): Promise<void> {
    for (const spec of this.specs) {
      broker.logger.info({ uri: spec.uri }, `Network Connector DiscoveryNetworkConnector:${spec.options.name}:BrokerService[${broker.config.brokerName}] started`);
      for (const addresses of spec.bridges) {
        const bridge = new NetworkBridge(broker, spec.options, addresses);
        this.bridges.push(bridge);
        bridge.start();
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.stop()));
    this.bridges = [];
  }

  status(): { bridges: BridgeStatus[] } {
    return { bridges: this.bridges.map((b) => b.status()) };
  }

  /** Fault injection: `stall`, `cut`, `delay` (args.ms) or `heal`, on the bridges named by args.bridge (its name or its remote broker's), or all. */
  async command(action: string, args: Record<string, string>): Promise<unknown> {
    if (!['stall', 'cut', 'delay', 'heal'].includes(action)) throw new AdminError(`Unknown network action '${action}' (stall, cut, delay, heal)`, 404);
    const wanted = args.bridge;
    const targets = this.bridges.filter((b) => !wanted || b.name === wanted || b.status().remoteBrokerName === wanted);
    if (targets.length === 0) throw new AdminError(wanted ? `No bridge '${wanted}'` : 'This broker has no network bridges', 404);
    const ms = Number(args.ms ?? 0);
    if (action === 'delay' && !(ms > 0)) throw new AdminError('delay needs ms > 0');
    return { results: targets.map((b) => b.injectFault(action as 'stall' | 'cut' | 'delay' | 'heal', ms)) };
  }
}

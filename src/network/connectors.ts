/**
 * The network of brokers as a broker extension: the responder end (every
 * broker answers bridges other brokers open to it) and the broker's own
 * network connectors (ActiveMQ `networkConnectors`), one NetworkBridge per
 * remote in each connector URI, started once the broker serves. Admin
 * commands (`POST /api/network/<action>`) inject faults into bridges.
 */
import type { BrokerExtension, ExtensionHost } from '../broker/extension.js';
import { adminError } from '../errors.js';
import { type BridgeStatus, NetworkBridge } from './bridge/bridge.js';
import { FAULT_ACTIONS, type FaultAction, type NetworkConnectorSpec, parseNetworkUri } from './connector-config.js';
import { type InboundBridge, NetworkResponder } from './responder.js';

export interface NetworkStatus {
  bridges: BridgeStatus[];
  /** Bridges other brokers opened to this one. */
  inbound: InboundBridge[];
}

export class Network implements BrokerExtension {
  readonly name = 'network';
  private readonly specs: NetworkConnectorSpec[];
  private host: ExtensionHost | null = null;
  private responder: NetworkResponder | null = null;
  private bridges: NetworkBridge[] = [];

  /** Parses every URI now, so a bad one stops the broker before it starts (CONFIG_NETWORK_URI naming it). */
  constructor(uris: readonly string[]) {
    this.specs = uris.map((u) => parseNetworkUri(u));
  }

  install(host: ExtensionHost): void {
    this.host = host;
    this.responder = new NetworkResponder(host);
    host.addPeerProtocol(this.responder);
  }

  async start(): Promise<void> {
    const host = this.host!;
    for (const spec of this.specs) {
      host.logger.info({ uri: spec.uri }, `Network Connector DiscoveryNetworkConnector:${spec.options.name}:BrokerService[${host.brokerName}] started`);
      for (const addresses of spec.bridges) {
        const bridge = new NetworkBridge(host, spec.options, addresses);
        this.bridges.push(bridge);
        bridge.start();
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.stop()));
    this.bridges = [];
  }

  status(): NetworkStatus {
    return { bridges: this.bridges.map((b) => b.status()), inbound: this.responder?.bridges ?? [] };
  }

  /** Fault injection: one of FAULT_ACTIONS (delay takes args.ms), on the bridges named by args.bridge (its name or its remote broker's), or all. */
  async command(action: string, args: Record<string, string>): Promise<unknown> {
    if (!(FAULT_ACTIONS as readonly string[]).includes(action)) throw adminError(404, 'ADMIN_NOT_FOUND', `Unknown network action '${action}' (${FAULT_ACTIONS.join(', ')})`);
    const wanted = args.bridge;
    const targets = this.bridges.filter((b) => !wanted || b.name === wanted || b.remoteName === wanted);
    if (targets.length === 0) throw adminError(404, 'ADMIN_NOT_FOUND', wanted ? `No bridge '${wanted}'` : 'This broker has no network bridges');
    const ms = Number(args.ms ?? 0);
    if (action === 'delay' && !(ms > 0)) throw adminError(400, 'ADMIN_BAD_REQUEST', 'delay needs ms > 0');
    return { results: targets.map((b) => b.injectFault(action as FaultAction, ms)) };
  }
}

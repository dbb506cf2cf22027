/**
 * amq-sim as a library: a broker with every feature the command line has
 * (the network of brokers, as an extension), and the STOMP client.
 */
import { Broker, type BrokerDependencies } from './broker/broker.js';
import type { BrokerExtension } from './broker/extension.js';
import { type BrokerConfig, type PartialBrokerConfig, resolveBrokerConfig } from './config/broker-config.js';
import { Network } from './network/connectors.js';

export { Broker } from './broker/broker.js';
export { StompClient } from './client/index.js';
export type { BrokerConfig, PartialBrokerConfig } from './config/broker-config.js';

/** The extensions a broker runs with: the network of brokers (also the responder end on a hub with no connectors of its own). */
export function standardExtensions(config: BrokerConfig): BrokerExtension[] {
  return [new Network(config.networkConnectors)];
}

/** Makes a broker with the standard extensions (not started). */
export function createBroker(input: PartialBrokerConfig | BrokerConfig, deps: Omit<BrokerDependencies, 'extensions'> = {}): Broker {
  const config = resolveBrokerConfig(input as PartialBrokerConfig);
  return new Broker(config, { ...deps, extensions: standardExtensions(config) });
}

/** Makes and starts a broker with the standard extensions. */
export async function startBroker(input: PartialBrokerConfig | BrokerConfig = {}, deps: Omit<BrokerDependencies, 'extensions'> = {}): Promise<Broker> {
  const broker = createBroker(input, deps);
  await broker.start();
  return broker;
}

import type { Broker } from './broker.js';

/**
 * Something that runs inside a broker once it serves, and stops with it:
 * the network connectors. The broker knows nothing else of them.
 */
export interface BrokerExtension {
  /** Its name in the status and in admin commands (`POST /api/<name>/<action>`). */
  readonly name: string;
  start(broker: Broker): Promise<void>;
  stop(): Promise<void>;
  status(): unknown;
  command(action: string, args: Record<string, string>): Promise<unknown>;
}

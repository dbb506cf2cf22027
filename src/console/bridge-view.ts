import type { BrokerStatus } from '../broker/status.js';

/** What the console reads of a network bridge, as the network extension's status reports it. */
export interface BridgeView {
  name: string;
  remoteBrokerName: string | null;
  state: string;
  fault: { kind: string } | null;
  forwarded: number;
  acknowledged: number;
  inFlight: number;
  stalls: number;
  reconnects: number;
}

/** The bridges in a broker's status (none without network connectors). */
export function bridgesOf(status: BrokerStatus | undefined): BridgeView[] {
  return (status?.network as { bridges?: BridgeView[] } | undefined)?.bridges ?? [];
}

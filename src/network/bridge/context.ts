import type { ExtensionHost } from '../../broker/extension.js';
import type { Session } from '../../client/session.js';
import type { Logger } from '../../config/logger.js';
import type { NetworkOptions } from '../connector-config.js';
import type { ProgressWatchdog } from './watchdog.js';

export interface BridgeStats {
  forwarded: number;
  forwardedFrames: number;
  acknowledged: number;
  received: number;
  receivedFrames: number;
  reconnects: number;
  stalls: number;
  lastActivity: number;
  lastError: string | null;
}

/** What the parts of a bridge (push, pull) share while its link is up: made anew for each connection. */
export interface BridgeContext {
  readonly host: ExtensionHost;
  readonly options: NetworkOptions;
  readonly logger: Logger;
  /** The bridge's name, e.g. `NC->127.0.0.1:61611`. */
  readonly name: string;
  /** This broker's name and the remote one's. */
  readonly local: string;
  readonly remote: string;
  readonly session: Session;
  readonly watchdog: ProgressWatchdog;
  readonly stats: BridgeStats;
  /** Still the bridge's current connection. */
  isUp(): boolean;
  /** A receipt or subscription id unique on this connection. */
  nextId(prefix: string): string;
  send(command: string, headers: Record<string, string>): void;
  /** Sends a frame with a receipt the watchdog waits for; `what` names it in a stall report. */
  request(command: string, headers: Record<string, string>, what: string): void;
}

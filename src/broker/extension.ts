import type { TlsMaterial } from '../transport/tls.js';
import type { Logger } from '../config/logger.js';
import type { Advisories } from './advisories.js';
import type { MessageRouter } from './core/router.js';
import type { PeerProtocol } from './stomp/peer.js';

/**
 * Something that runs inside a broker beside its clients: the network of
 * brokers (src/network), later security and the console. The broker knows
 * nothing else of them; they know of the broker only this face.
 */
export interface BrokerExtension {
  /** Its name in the status and in admin commands (`POST /api/<name>/<action>`). */
  readonly name: string;
  /** Called when the broker is made, before any connection: register peer protocols here. */
  install(host: ExtensionHost): void;
  /** Called once the broker serves (after the store lock, recovery and its transports). */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): unknown;
  command(action: string, args: Record<string, string>): Promise<unknown>;
}

/** What an extension may use of the broker. */
export interface ExtensionHost {
  readonly brokerName: string;
  readonly brokerId: string;
  /** Its first transport connector's address. */
  readonly brokerURL: string;
  readonly logger: Logger;
  /** The secret this broker's bridges present when they have no user name and password of their own (bridgeAuthentication.secret). */
  readonly bridgeSecret: string | null;
  /** The sslContext's key, certificate and CA: bridges dial stomp+ssl:// and wss:// with them. */
  readonly tlsMaterial: TlsMaterial;
  /** The dispatch core: destinations, consumers, sending. */
  readonly router: MessageRouter;
  readonly advisories: Advisories;
  newId(kind: string): string;
  /** Connections whose CONNECT carries `protocol.connectHeader` are peers of this protocol. */
  addPeerProtocol(protocol: PeerProtocol): void;
}

// The rest of the face: what an extension may use of the dispatch core and
// the STOMP layer. Extensions import from this file only (the linter checks it).
export type { ConsumerDescription } from './advisories.js';
export type { Consumer } from './core/consumer.js';
export { type Destination, destination, parseStompDestination, stompName } from './core/destination.js';
export { BrokerMessage, type Headers } from './core/message.js';
export { addToList } from './core/multimap.js';
export type { Queue } from './core/queue.js';
export { compileSelector } from './core/selector.js';
export type { TopicSubscription } from './core/topic.js';
export { matchesWildcard } from './core/wildcard.js';
export { BRIDGE_SECRET_HEADER, type PeerConnection, type PeerConsumer, type PeerDelivery, type PeerMessage, type PeerProtocol, type PeerSession } from './stomp/peer.js';

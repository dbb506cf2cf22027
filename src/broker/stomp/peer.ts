/**
 * Peers: connections that are not clients but other brokers' network
 * bridges. They speak STOMP with a few headers of their own; an extension
 * (src/network) registers a PeerProtocol that says what those headers mean.
 * The STOMP session layer only asks it, and knows nothing of networks.
 */
import type { Frame } from '../../stomp/index.js';
import type { BrokerMessage, Headers } from '../core/message.js';

/** The CONNECT header in which a bridge presents the bridge secret (bridgeAuthentication.secret), when users are not configured. */
export const BRIDGE_SECRET_HEADER = 'amq-sim-bridge-secret';

export interface PeerProtocol {
  /** The CONNECT header by which a peer says what it is. */
  readonly connectHeader: string;
  /** Headers of the protocol's own: never stored with a message, whoever sends them. */
  readonly reservedHeaders: readonly string[];
  /** A CONNECT with `connectHeader`: returns the session's hooks, or throws ProtocolError to refuse it. */
  open(value: string, connection: PeerConnection): PeerSession;
}

/** What a peer protocol may know of the connection. */
export interface PeerConnection {
  readonly connectionId: string;
  readonly remoteAddress: string;
}

export interface PeerSession {
  /** Headers for the CONNECTED frame. */
  readonly connectedHeaders: Record<string, string>;
  /** A SEND from the peer: the message's own identity, 'duplicate' to acknowledge and drop it, or undefined for a SEND like a client's. */
  received(headers: Headers): PeerMessage | 'duplicate' | undefined;
  /** The message of that SEND is stored (or routed, when not persistent): a copy sent again is a duplicate. */
  kept(headers: Headers): void;
  /**
   * A SEND from the peer that carries many messages: a SEND frame for each,
   * in order, the last with the batch's receipt; undefined for a SEND of one.
   */
  unbatch(frame: Frame): Frame[] | undefined;
  /** A SUBSCRIBE from the peer: how its consumer differs from a client's, or undefined for a subscription like a client's. */
  subscribed(headers: Headers): PeerConsumer | undefined;
  /** The connection ended. */
  closed(): void;
}

/** A message a peer forwards keeps what it had on the broker it came from. */
export interface PeerMessage {
  id: string;
  persistent: boolean;
  priority: number;
  expiration: number;
  timestamp: number;
  brokerPath: readonly string[];
  redeliveryCounter: number;
}

/** A consumer a peer makes to pull messages towards its broker. */
export interface PeerConsumer {
  priority: number;
  /** The broker it consumes for (Consumer.affinity). */
  affinity: string;
  /** The brokers its demand came through, nearest first: consumer advisories carry it. */
  brokerPath: readonly string[];
  /** The peer's forwarding rule (loops, TTL, replay). */
  accepts(m: BrokerMessage): boolean;
  /**
   * Deliveries to it travel together: those of one turn of the event loop,
   * up to `batchBytes` of messages (BrokerMessage.size), go in one MESSAGE
   * frame whose `ack` is the last one's. `batch` makes that frame's own
   * header lines and its body.
   */
  readonly batchBytes: number;
  batch(deliveries: readonly PeerDelivery[]): { headerLines: string; body: Buffer };
}

/** A message on its way to a peer's consumer, with the `ack` id that acknowledges it. */
export interface PeerDelivery {
  message: BrokerMessage;
  ackId: string;
}

import { protocolError } from '../../../errors.js';
import type { Frame } from '../../../stomp/index.js';
import { type Destination, parseStompDestination, parseStompDestinations, stompName } from '../../core/destination.js';
import { BrokerMessage, DEFAULT_PRIORITY, type Headers, MESSAGE_OVERHEAD } from '../../core/message.js';
import type { StompConnection } from '../connection.js';
import { isManagementName, isScheduled } from '../../scheduler/schedule.js';
import type { Transaction } from '../transaction.js';
import { transactionFor } from './transaction.js';

/** SEND headers the broker interprets itself; the rest travel with the message as sent. */
const CONTROL_HEADERS = new Set(['destination', 'receipt', 'transaction', 'content-length', 'persistent', 'priority', 'expires', 'message-id', 'timestamp', 'redelivered', 'JMSXDeliveryCount', 'subscription', 'ack']);

export function handleSend(c: StompConnection, frame: Frame): void {
  const h = frame.headers;
  const destHeader = h.destination;
  if (destHeader === undefined || destHeader === '') throw protocolError('STOMP_SEND_NO_DESTINATION');
  const destinations = resolveDestinations(c, destHeader);
  const tx = transactionFor(c, h.transaction);
  const fromPeer = c.peer?.received(h);
  if (fromPeer === 'duplicate') {
    c.receipt(h.receipt);
    return;
  }
  const persistent = fromPeer ? fromPeer.persistent : h.persistent === 'true';
  // A scheduled message is written to the store whatever its persistence: the store's limit and the RECEIPT apply to it.
  const stored = persistent || (c.ctx.router.interceptor !== null && isScheduled(h));
  if (tx) holdForTransaction(c, tx, frame.body.length * destinations.length);
  else {
    // Producer flow control: a full destination holds this SEND (and what follows it) until it has room.
    for (const dest of destinations) {
      const refusal = c.ctx.router.flowControl.admit(dest, stored, c.connectionId);
      if (refusal) return c.gate.hold(frame, refusal);
    }
  }
  const reserved = c.ctx.reservedHeaders;
  const userHeaders: Headers = Object.create(null);
  for (const k in h) if (!CONTROL_HEADERS.has(k) && !reserved.has(k)) userHeaders[k] = h[k];
  const replyTo = userHeaders['reply-to'];
  if (replyTo !== undefined && replyTo.startsWith('/temp-')) {
    try {
      userHeaders['reply-to'] = stompName(parseStompDestination(replyTo, c));
    } catch {
      /* an odd reply-to travels as it was sent */
    }
  }
  if (replyTo !== undefined && c.ctx.router.interceptor && destinations.some((d) => isManagementName(d.name))) authorizeBrowseReplies(c, replyTo);
  // A peer's message keeps the identity it had on the broker it came from.
  const id = fromPeer ? fromPeer.id : c.ctx.ids.next('m');
  const priority = fromPeer ? fromPeer.priority : parsePriority(h.priority);
  const expiration = fromPeer ? fromPeer.expiration : parseExpiration(h.expires);
  const timestamp = fromPeer ? fromPeer.timestamp : Date.now();
  const brokerPath = fromPeer ? fromPeer.brokerPath : undefined;
  const redeliveryCounter = fromPeer ? fromPeer.redeliveryCounter : 0;
  c.stats.messagesIn++;
  for (const dest of destinations) {
    if (dest.temporary && !c.ctx.router.temporaries.has(dest.key)) throw protocolError('STOMP_DELETED_TEMPORARY', stompName(dest));
    const message = new BrokerMessage({
      id,
      destination: dest,
      headers: userHeaders,
      body: frame.body,
      persistent,
      priority,
      expiration,
      timestamp,
      producerId: c.connectionId,
      brokerPath,
      redeliveryCounter,
    });
    if (tx) {
      message.compact();
      tx.sends.push(message);
    } else if (stored) c.ctx.router.send(message, fromPeer ? keptByPeer(c, h, c.trackWrite()) : c.trackWrite());
    else {
      c.ctx.router.send(message);
      if (fromPeer) c.peer!.kept(h);
    }
  }
  c.receipt(h.receipt);
}

/** A peer's message is a duplicate when it comes again only once it was stored: one the store refused is taken when sent again. */
function keptByPeer(c: StompConnection, h: Headers, written: (err?: Error) => void): (err?: Error) => void {
  return (err) => {
    if (!err) c.peer?.kept(h);
    written(err);
  };
}

/** The scheduler sends a BROWSE's copies of every job to its reply-to: only where this connection may send itself. */
function authorizeBrowseReplies(c: StompConnection, replyTo: string): void {
  let dest: Destination;
  try {
    dest = parseStompDestination(replyTo, c);
  } catch {
    return; // the scheduler ignores a reply-to that names no destination
  }
  c.authorize('write', dest);
}

/** A transaction's sends wait in memory for COMMIT: counted against the memory limit, and capped. */
function holdForTransaction(c: StompConnection, tx: Transaction, bytes: number): void {
  const size = bytes + MESSAGE_OVERHEAD;
  if (!c.ctx.router.flowControl.holdForTransaction(size)) throw protocolError('STOMP_TRANSACTION_TOO_LARGE', tx.id, c.ctx.router.usage.memory.limit / 2);
  tx.bytes += size;
}

function resolveDestinations(c: StompConnection, header: string): Destination[] {
  // Producers repeat their destination: the last one parsed is kept.
  const last = c.lastSendDestinations;
  if (last?.header === header) return last.destinations;
  const destinations = parseStompDestinations(header, c);
  for (const dest of destinations) {
    if (c.producedTo.has(dest.key)) continue;
    // Once per destination and connection, as ActiveMQ checks a producer when it is added.
    c.authorize('write', dest);
    c.producedTo.set(dest.key, dest);
    c.ctx.advisories.producerAdded(dest, c.connectionId);
  }
  c.lastSendDestinations = { header, destinations };
  return destinations;
}

function parsePriority(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PRIORITY;
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n)) throw protocolError('STOMP_INVALID_HEADER', 'priority', value);
  return Math.min(9, Math.max(0, n));
}

function parseExpiration(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw protocolError('STOMP_INVALID_HEADER', 'expires', value);
  return Math.floor(n);
}

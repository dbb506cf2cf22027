import { protocolError } from '../../../errors.js';
import type { Frame } from '../../../stomp/index.js';
import type { Queue } from '../../core/queue.js';
import type { PendingAck } from '../../core/router.js';
import type { StompConnection } from '../connection.js';
import type { StompSubscription } from '../subscription.js';
import { transactionFor } from './transaction.js';

/** ACK and NACK. 1.2 names the delivery by its `ack` id; 1.0 and 1.1 by message-id (and subscription in 1.1). */
export function handleAck(c: StompConnection, frame: Frame, negative: boolean): void {
  const h = frame.headers;
  const command = negative ? 'NACK' : 'ACK';
  let sub: StompSubscription | undefined;
  let key: string | undefined;
  if (c.version === '1.2') {
    key = h.id;
    if (key === undefined) throw protocolError('STOMP_ACK_NO_ID', command);
    sub = c.subscriptionsByIndex.get(Number.parseInt(key, 10));
  } else {
    key = h['message-id'];
    if (key === undefined) throw protocolError('STOMP_ACK_NO_MESSAGE_ID', command);
    const subId = h.subscription;
    if (subId !== undefined) sub = c.subscriptions.get(subId);
    else for (const s of c.subscriptions.values()) if (s.inflight.has(key)) sub = s;
  }
  if (!sub && isBrowsed(c, h.subscription, key)) {
    // A browsed message is neither consumed nor locked: an ACK changes nothing (ActiveMQ refuses a NACK).
    if (negative) throw protocolError('STOMP_BROWSER_NACK');
    c.receipt(h.receipt);
    return;
  }
  // NACK rejects one message, even in client mode.
  const deliveries = !sub ? [] : negative ? sub.takeOne(key) : sub.takeAcknowledged(key);
  if (!sub || deliveries.length === 0) throw protocolError('STOMP_UNEXPECTED_ACK', command, key);
  const tx = transactionFor(c, h.transaction);
  // With a receipt, the receipt waits until the removal is durable.
  const track = h.receipt !== undefined && !tx;
  for (const d of deliveries) {
    if (tx) (negative ? tx.nacks : tx.acks).push({ ...d, subscription: sub });
    else if (negative) rejectDelivery(c, d, track ? c.trackWrite() : undefined);
    else d.source.acknowledge(d.message, false, track ? c.trackWrite() : undefined);
  }
  // The prefetch window moved, transacted or not (as ActiveMQ's delivered ack).
  let last: Queue | null = null;
  for (const d of deliveries) {
    if (d.source === last) continue;
    last = d.source;
    d.source.dispatch();
  }
  c.receipt(h.receipt);
}

/** Whether an ACK names a queue browser's message (by subscription, or, in 1.2, by an ack id of its index). */
function isBrowsed(c: StompConnection, subscription: string | undefined, key: string): boolean {
  if (subscription !== undefined) return c.browsers.has(subscription);
  if (c.version !== '1.2') return false;
  const index = Number.parseInt(key, 10);
  for (const b of c.browsers.values()) if (b.index === index) return true;
  return false;
}

/** NACK: ActiveMQ treats it as a poison ack and dead-letters the message at once (policy `nackToDeadLetter`). */
export function rejectDelivery(c: StompConnection, d: PendingAck, done?: (err?: Error) => void): void {
  if (c.ctx.router.policy.nackToDeadLetter) d.source.deadLetter(d.message, 'Poison ack: the client sent NACK', done);
  else {
    d.source.redeliver([d.message]);
    done?.();
  }
}

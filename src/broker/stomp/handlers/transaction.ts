import { protocolError } from '../../../errors.js';
import type { Frame } from '../../../stomp/index.js';
import { addToList } from '../../core/multimap.js';
import type { Queue } from '../../core/queue.js';
import type { StompConnection } from '../connection.js';
import type { StompSubscription } from '../subscription.js';
import { type TransactedDelivery, Transaction } from '../transaction.js';
import { rejectDelivery } from './ack.js';

/** The transaction a frame names, or null when it names none. */
export function transactionFor(c: StompConnection, txId: string | undefined): Transaction | null {
  if (txId === undefined) return null;
  const tx = c.transactions.get(txId);
  if (!tx) throw protocolError('STOMP_NO_TRANSACTION', txId);
  return tx;
}

export function handleBegin(c: StompConnection, frame: Frame): void {
  const txId = frame.headers.transaction;
  if (txId === undefined || txId === '') throw protocolError('STOMP_TRANSACTION_MISSING', 'beginning');
  if (c.transactions.has(txId)) throw protocolError('STOMP_TRANSACTION_STARTED', txId);
  c.transactions.set(txId, new Transaction(`${c.connectionId}:${txId}`));
  c.receipt(frame.headers.receipt);
}

export function handleCommit(c: StompConnection, frame: Frame): void {
  const tx = takeTransaction(c, frame.headers.transaction, 'committing');
  c.ctx.router.commit(tx.id, tx.sends, tx.acks, c.trackWrite());
  for (const n of tx.nacks) rejectDelivery(c, n);
  c.receipt(frame.headers.receipt);
}

export function handleAbort(c: StompConnection, frame: Frame): void {
  rollback(takeTransaction(c, frame.headers.transaction, 'aborting'));
  c.receipt(frame.headers.receipt);
}

function takeTransaction(c: StompConnection, txId: string | undefined, verb: string): Transaction {
  if (txId === undefined) throw protocolError('STOMP_TRANSACTION_MISSING', verb);
  const tx = transactionFor(c, txId)!;
  c.transactions.delete(txId);
  // Its messages leave the transaction's count: committed ones are counted by the destinations they reach.
  c.ctx.router.flowControl.releaseTransaction(tx.bytes);
  return tx;
}

/**
 * Sends are dropped. Acks are undone: as in ActiveMQ the messages stay
 * delivered and unacknowledged (the client may ack them again), or go back to
 * their queue if their subscription has gone.
 */
export function rollback(tx: Transaction): void {
  const bySubscription = new Map<StompSubscription, TransactedDelivery[]>();
  const orphans = new Map<Queue, TransactedDelivery[]>();
  for (const entry of [...tx.acks, ...tx.nacks]) {
    if (entry.subscription.closed) addToList(orphans, entry.source, entry);
    else addToList(bySubscription, entry.subscription, entry);
  }
  for (const [sub, returned] of bySubscription) sub.restore(returned);
  for (const [source, returned] of orphans) source.redeliver(returned.sort((a, b) => a.seq - b.seq).map((d) => d.message));
}

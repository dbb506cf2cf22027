import { protocolError } from '../../../errors.js';
import type { Frame, Headers } from '../../../stomp/index.js';
import { type Destination, parseStompDestination } from '../../core/destination.js';
import type { BrokerMessage } from '../../core/message.js';
import type { Queue } from '../../core/queue.js';
import type { StompConnection } from '../connection.js';
import { escapeHeaderValue } from '../../../stomp/index.js';
import { isWildcard, wildcardReaches } from '../../core/wildcard.js';
import { QueueBrowser } from '../browser.js';
import { type AckMode, ACK_MODES, StompSubscription } from '../subscription.js';

export function handleSubscribe(c: StompConnection, frame: Frame): void {
  const h = frame.headers;
  const destHeader = h.destination;
  if (!destHeader) throw protocolError('STOMP_SUBSCRIBE_NO_DESTINATION');
  let id = h.id;
  if (id === undefined) {
    if (c.version !== '1.0') throw protocolError('STOMP_SUBSCRIBE_NO_ID');
    id = destHeader;
  }
  if (c.subscriptions.has(id) || c.browsers.has(id)) throw protocolError('STOMP_DUPLICATE_SUBSCRIPTION', id);
  const dest = parseStompDestination(destHeader, c);
  c.authorize('read', dest);
  if (h.browser === 'true') return browse(c, frame, id, dest);
  if (dest.temporary && c.ctx.router.temporaries.get(dest.key) !== c.connectionId) throw protocolError('STOMP_FOREIGN_TEMPORARY', destHeader);
  const ackMode = (h.ack ?? 'auto') as AckMode;
  if (!ACK_MODES.includes(ackMode)) throw protocolError('STOMP_ACK_MODE', h.ack!);
  const durableName = h['activemq.subscriptionName'];
  if (durableName !== undefined && dest.type === 'queue') throw protocolError('STOMP_DURABLE_QUEUE');
  if (durableName !== undefined && !c.clientId) throw protocolError('STOMP_DURABLE_NO_CLIENT_ID');
  const policy = c.ctx.router.policy;
  const defaultPrefetch = dest.type === 'queue' ? policy.queuePrefetch : durableName !== undefined ? policy.durableTopicPrefetch : policy.topicPrefetch;
  const prefetch = parseIntHeader(h, 'activemq.prefetchSize', defaultPrefetch, 1);
  const peer = c.peer?.subscribed(h);
  const selectorText = h.selector;
  const sub = new StompSubscription(
    c.ctx.ids.next('s'),
    {
      id,
      destination: dest,
      ackMode,
      prefetch,
      priority: peer ? peer.priority : parseIntHeader(h, 'activemq.priority', 0, -127),
      exclusive: h['activemq.exclusive'] === 'true',
      noLocal: h['activemq.noLocal'] === 'true',
      selector: compile(c, selectorText),
      selectorText,
      durableName,
      peer,
    },
    c,
    ++c.subscriptionSequence,
    c.version === '1.2',
  );
  c.subscriptions.set(id, sub);
  c.subscriptionsByIndex.set(sub.index, sub);
  // With a receipt, the subscription exists at once but takes its first message only after the RECEIPT (as ActiveMQ).
  sub.held = h.receipt !== undefined;
  try {
    attach(c, sub, dest, h['activemq.retroactive'] === 'true');
  } catch (err) {
    c.subscriptions.delete(id);
    c.subscriptionsByIndex.delete(sub.index);
    throw err;
  }
  c.ctx.advisories.consumerAdded({
    consumerId: sub.consumerId,
    connectionId: c.connectionId,
    clientId: c.clientId,
    destination: dest,
    selector: selectorText,
    priority: sub.priority,
    prefetchSize: prefetch,
    exclusive: sub.exclusive,
    noLocal: sub.settings.noLocal,
    subscriptionName: durableName,
    brokerPath: peer?.brokerPath ?? [],
  });
  c.receipt(h.receipt, () => {
    sub.held = false;
    c.redispatch(sub);
  });
}

/** ActiveMQ's queue browser: the queue's messages as they are now, then `browser:end`, after the RECEIPT. */
function browse(c: StompConnection, frame: Frame, id: string, dest: Destination): void {
  if (c.version === '1.0') throw protocolError('STOMP_BROWSER_VERSION');
  if (dest.type !== 'queue') throw protocolError('STOMP_BROWSER_NOT_QUEUE', frame.headers.destination!);
  const queues = [...c.ctx.router.queues.values()].filter(
    (q) => q.destination.key === dest.key || (isWildcard(dest.name) && wildcardReaches(dest.name, q.destination)),
  );
  const browser = new QueueBrowser(id, ++c.subscriptionSequence, frame.headers.destination!, browseAll(queues), c, `subscription:${c.escape ? escapeHeaderValue(id) : id}\n`);
  c.browsers.set(id, browser);
  if (frame.headers.receipt === undefined) browser.resume();
  else c.receipt(frame.headers.receipt, () => browser.resume());
}

async function* browseAll(queues: readonly Queue[]): AsyncGenerator<BrokerMessage> {
  for (const q of queues) yield* q.browse();
}

function compile(c: StompConnection, text: string | undefined): ((m: BrokerMessage) => boolean) | null {
  if (text === undefined || text.trim() === '') return null;
  try {
    return c.ctx.compileSelector(text);
  } catch (err) {
    throw protocolError('STOMP_INVALID_SELECTOR', (err as Error).message);
  }
}

/** Puts the subscription on its queue, or on a (durable) subscription of its topic. */
function attach(c: StompConnection, sub: StompSubscription, dest: Destination, retroactive: boolean): void {
  const router = c.ctx.router;
  if (dest.type === 'queue') {
    router.addQueueConsumer(dest, sub);
    return;
  }
  const durableName = sub.settings.durableName;
  if (durableName !== undefined) {
    sub.topicSubscription = router.subscribeDurable(dest, sub, { clientId: c.clientId!, subscriptionName: durableName, selector: sub.settings.selectorText, noLocal: sub.settings.noLocal }, (m) => sub.matches(m));
    return;
  }
  sub.topicSubscription = router.subscribeTopic(dest, sub, (m) => sub.matches(m));
  if (retroactive) for (const m of router.recentMessages(dest)) if (sub.matches(m)) sub.topicSubscription.queue.offer(m);
  c.ctx.advisories.replay(sub.topicSubscription);
}

export function handleUnsubscribe(c: StompConnection, frame: Frame): void {
  const h = frame.headers;
  const durableName = h['activemq.subscriptionName'];
  const id = h.id ?? (c.version === '1.0' ? h.destination : undefined);
  if (id === undefined && durableName === undefined) throw protocolError('STOMP_UNSUBSCRIBE_NO_ID');
  const sub = id !== undefined ? c.subscriptions.get(id) : undefined;
  const browser = id !== undefined ? c.browsers.get(id) : undefined;
  if (sub) closeSubscription(c, sub);
  else if (browser) {
    browser.close();
    c.browsers.delete(id!);
  } else if (durableName === undefined) throw protocolError('STOMP_NO_SUBSCRIPTION', id!);
  if (durableName !== undefined) {
    if (!c.clientId) throw protocolError('STOMP_DURABLE_NO_CLIENT_ID');
    c.ctx.router.removeDurable(c.clientId, durableName);
  }
  c.receipt(h.receipt);
}

/** Ends a subscription: what it had not acknowledged goes back to its queue, marked redelivered. */
export function closeSubscription(c: StompConnection, sub: StompSubscription): void {
  sub.closed = true;
  c.subscriptions.delete(sub.id);
  c.subscriptionsByIndex.delete(sub.index);
  c.ctx.advisories.consumerRemoved(sub.consumerId);
  const unacked = sub.takeUnacknowledged();
  if (sub.topicSubscription) c.ctx.router.unsubscribeTopic(sub.topicSubscription, [...unacked.values()].flat());
  else c.ctx.router.removeQueueConsumer(sub.settings.destination, sub, unacked);
}

function parseIntHeader(h: Headers, name: string, fallback: number, min: number): number {
  const value = h[name];
  if (value === undefined) return fallback;
  const n = Number.parseInt(value, 10);
  if (!Number.isFinite(n) || n < min) throw protocolError('STOMP_INVALID_HEADER', name, value);
  return n;
}

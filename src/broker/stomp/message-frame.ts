/**
 * Where MESSAGE frames to clients are assembled (a peer's consumer gets
 * batches of its protocol's making: PeerConsumer.batch). The header lines
 * that are the same for every delivery of a message are made once and kept
 * in the message's wireCache (the hot path: a topic message delivered to 10
 * subscribers is encoded once).
 */
import { escapeHeaderValue } from '../../stomp/index.js';
import { stompName } from '../core/destination.js';
import type { BrokerMessage } from '../core/message.js';

class StompEncoding {
  /** Standard headers, escaped for 1.1+ / as they are for 1.0. */
  head: string | undefined;
  head10: string | undefined;
  destinationLine: string | undefined;
}

function encodingOf(m: BrokerMessage): StompEncoding {
  let e = m.wireCache as StompEncoding | undefined;
  if (e === undefined) m.wireCache = e = new StompEncoding();
  return e;
}

const identity = (v: string): string => v;

function headerLines(m: BrokerMessage, enc: (v: string) => string): string {
  let head = '';
  if (m.brokerHeaders) for (const k in m.brokerHeaders) head += `${enc(k)}:${enc(m.brokerHeaders[k])}\n`;
  for (const k in m.headers) head += `${enc(k)}:${enc(m.headers[k])}\n`;
  return head;
}

/** message-id, timestamp, expires, priority, persistent, then the broker's and the sender's headers. */
function standardHead(m: BrokerMessage, escape: boolean): string {
  const e = encodingOf(m);
  const cached = escape ? e.head : e.head10;
  if (cached !== undefined) return cached;
  const enc = escape ? escapeHeaderValue : identity;
  let head = `message-id:${enc(m.id)}\ntimestamp:${m.timestamp}\nexpires:${m.expiration}\npriority:${m.priority}\n`;
  if (m.persistent) head += 'persistent:true\n';
  head += headerLines(m, enc);
  if (escape) e.head = head;
  else e.head10 = head;
  return head;
}

/** `destination:/queue/NAME\n`, escaped for 1.1+ or not. */
export function destinationLine(m: BrokerMessage, escape: boolean): string {
  const name = stompName(m.destination);
  if (!escape) return `destination:${name}\n`;
  const e = encodingOf(m);
  return (e.destinationLine ??= `destination:${escapeHeaderValue(name)}\n`);
}

export interface MessageFrameParts {
  /** `subscription:ID\n`, escaped as the connection's version needs. */
  subscriptionLine: string;
  destinationLine: string;
  /** The 1.2 `ack` header value, or '' for none. */
  ackId: string;
  escape: boolean;
}

/** The head of a MESSAGE frame (everything before the body). */
export function messageFrameHead(m: BrokerMessage, p: MessageFrameParts): string {
  let head = `MESSAGE\n${p.subscriptionLine}${p.destinationLine}`;
  if (p.ackId !== '') head += `ack:${p.ackId}\n`;
  if (m.redeliveryCounter > 0) head += `redelivered:true\nJMSXDeliveryCount:${m.redeliveryCounter + 1}\n`;
  head += standardHead(m, p.escape);
  return `${head}content-length:${m.body.length}\n\n`;
}

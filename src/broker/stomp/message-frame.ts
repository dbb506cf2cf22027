/**
 * Where frames that carry a message are assembled: MESSAGE frames to clients
 * and to peers, and the SEND frames a network bridge forwards with. The
 * header lines that are the same for every delivery of a message are made
 * once and kept in the message's wireCache (the hot path: a topic message
 * delivered to 10 subscribers is encoded once).
 */
import { escapeHeaderValue } from '../../stomp/index.js';
import { stompName } from '../core/destination.js';
import type { BrokerMessage } from '../core/message.js';

class StompEncoding {
  /** Standard headers, escaped for 1.1+ / as they are for 1.0. */
  head: string | undefined;
  head10: string | undefined;
  /** Broker and sender headers, escaped. */
  userHead: string | undefined;
  destinationLine: string | undefined;
  /** A peer protocol's properties + userHead. */
  peerHead: string | undefined;
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

function userHead(m: BrokerMessage): string {
  const e = encodingOf(m);
  return (e.userHead ??= headerLines(m, escapeHeaderValue));
}

/** message-id, timestamp, expires, priority, persistent, then the broker's and the sender's headers. */
function standardHead(m: BrokerMessage, escape: boolean): string {
  const e = encodingOf(m);
  const cached = escape ? e.head : e.head10;
  if (cached !== undefined) return cached;
  const enc = escape ? escapeHeaderValue : identity;
  let head = `message-id:${enc(m.id)}\ntimestamp:${m.timestamp}\nexpires:${m.expiration}\npriority:${m.priority}\n`;
  if (m.persistent) head += 'persistent:true\n';
  head += escape ? userHead(m) : headerLines(m, identity);
  if (escape) e.head = head;
  else e.head10 = head;
  return head;
}

function peerHead(m: BrokerMessage, properties: (m: BrokerMessage) => string): string {
  const e = encodingOf(m);
  return (e.peerHead ??= properties(m) + userHead(m));
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
  /** For a peer's consumer: its properties stand for the standard headers. */
  properties?: ((m: BrokerMessage) => string) | undefined;
}

/** The head of a MESSAGE frame (everything before the body). */
export function messageFrameHead(m: BrokerMessage, p: MessageFrameParts): string {
  let head = `MESSAGE\n${p.subscriptionLine}${p.destinationLine}`;
  if (p.ackId !== '') head += `ack:${p.ackId}\n`;
  if (m.redeliveryCounter > 0) head += `redelivered:true\nJMSXDeliveryCount:${m.redeliveryCounter + 1}\n`;
  head += p.properties ? peerHead(m, p.properties) : standardHead(m, p.escape);
  return `${head}content-length:${m.body.length}\n\n`;
}

/** The head of the SEND frame by which a network bridge forwards a message (STOMP 1.2, escaped). */
export function forwardFrameHead(m: BrokerMessage, properties: (m: BrokerMessage) => string, receipt: string | undefined): string {
  let head = `SEND\n${destinationLine(m, true)}${peerHead(m, properties)}`;
  if (m.redeliveryCounter > 0) head += `redelivered:true\nJMSXDeliveryCount:${m.redeliveryCounter + 1}\n`;
  if (receipt !== undefined) head += `receipt:${receipt}\n`;
  return `${head}content-length:${m.body.length}\n\n`;
}

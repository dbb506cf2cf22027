import { protocolError, storeError } from '../../errors.js';

export type DestinationType = 'queue' | 'topic';

/** A physical destination. `key` is ActiveMQ's URL form (`queue://NAME`), unique per broker. */
export interface Destination {
  readonly type: DestinationType;
  readonly name: string;
  readonly temporary: boolean;
  readonly key: string;
}

/** Compare destinations by `key`: equal destinations need not be the same object. */
export function destination(type: DestinationType, name: string, temporary = false): Destination {
  return { type, name, temporary, key: `${temporary ? 'temp-' : ''}${type}://${name}` };
}

/** ActiveMQ's qualified name, as its flow-control and security messages print a destination (`queue://orders`, `temp-queue://…`): the key. */
export function qualifiedName(dest: Destination): string {
  return dest.key;
}

export function destinationFromKey(key: string): Destination {
  const m = /^(temp-)?(queue|topic):\/\/(.+)$/.exec(key);
  if (!m) throw storeError('STORE_CORRUPT_RECORD', `Invalid destination key '${key}'`);
  return destination(m[2] as DestinationType, m[3], m[1] !== undefined);
}

export interface StompNameResolver {
  /** Maps a connection's `/temp-queue/NAME` or `/temp-topic/NAME` to its temporary destination. */
  temporary(type: DestinationType, name: string): Destination;
}

/** One STOMP destination header value, possibly composite (`/queue/a,/topic/b`). */
export function parseStompDestinations(value: string, temps: StompNameResolver): Destination[] {
  return value.split(',').map((part) => parseStompDestination(part.trim(), temps));
}

const PREFIXES: Array<[string, (name: string, temps: StompNameResolver) => Destination]> = [
  ['/queue/', (n) => destination('queue', n)],
  ['/topic/', (n) => destination('topic', n)],
  ['/temp-queue/', (n, t) => t.temporary('queue', n)],
  ['/temp-topic/', (n, t) => t.temporary('topic', n)],
  ['/remote-temp-queue/', (n) => destination('queue', n, true)],
  ['/remote-temp-topic/', (n) => destination('topic', n, true)],
];

export function parseStompDestination(value: string, temps: StompNameResolver): Destination {
  for (const [prefix, make] of PREFIXES) {
    if (value.startsWith(prefix) && value.length > prefix.length) return make(value.slice(prefix.length), temps);
  }
  throw protocolError('STOMP_ILLEGAL_DESTINATION', value);
}

/** The name other clients use for a destination (temporary ones appear as `/remote-temp-*`). */
export function stompName(d: Destination): string {
  if (d.temporary) return `/remote-temp-${d.type}/${d.name}`;
  return `/${d.type}/${d.name}`;
}

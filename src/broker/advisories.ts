/**
 * ActiveMQ's advisory topics, for clients that subscribe to them:
 * `ActiveMQ.Advisory.Consumer.<Queue|Topic|TempQueue|TempTopic>.<name>`,
 * `ActiveMQ.Advisory.Producer.<...>.<name>`, `ActiveMQ.Advisory.Connection`
 * and `ActiveMQ.Advisory.NetworkBridge`. Bodies are JSON, as ActiveMQ sends
 * advisories to STOMP clients. A new subscriber to consumer or bridge
 * advisories first gets one message per consumer or bridge that exists (as in
 * ActiveMQ); network bridges learn remote demand this way.
 */
import { createHeaders } from '../stomp/index.js';
import { type Destination, destination, stompName } from './core/destination.js';
import { BrokerMessage } from './core/message.js';
import type { MessageRouter } from './core/router.js';
import type { TopicSubscription } from './core/topic.js';
import { matchesWildcard } from './core/wildcard.js';

const ADVISORY_PREFIX = 'ActiveMQ.Advisory.';

/** What a consumer advisory says of a consumer. */
export interface ConsumerDescription {
  consumerId: string;
  connectionId: string;
  clientId?: string | undefined;
  destination: Destination;
  selector?: string | undefined;
  priority: number;
  prefetchSize: number;
  exclusive: boolean;
  noLocal: boolean;
  subscriptionName?: string | undefined;
  /** For a network consumer: the brokers its demand came through, nearest last. Empty for a local consumer. */
  brokerPath: readonly string[];
}

/** A network bridge as ActiveMQ's NetworkBridge advisory describes it (its BrokerInfo is the remote broker's). */
export interface BridgeDescription {
  bridgeId: string;
  remoteBrokerName: string;
  remoteBrokerId: string;
  /** The remote broker's own address, as it announced it ('' when it did not). */
  remoteBrokerURL: string;
  /** The bridge connection's remote end, in ActiveMQ's form: `tcp:///127.0.0.1:54321@61611`. */
  remoteIp: string;
  /** This end was created by the remote broker's duplex connector (the responder end). */
  createdByDuplex: boolean;
  /** The bridge carries both directions. */
  duplex: boolean;
  /** The network connector's settings, as ActiveMQ prints its properties. */
  networkProperties: string;
}

interface Origin {
  brokerName: string;
  brokerId: string;
  /** This broker's address (its first transport connector): originBrokerURL. */
  brokerURL(): string;
}

function typeName(d: Destination): string {
  return `${d.temporary ? 'Temp' : ''}${d.type === 'queue' ? 'Queue' : 'Topic'}`;
}

function consumerAdvisoryTopic(d: Destination): Destination {
  return destination('topic', `${ADVISORY_PREFIX}Consumer.${typeName(d)}.${d.name}`);
}

function producerAdvisoryTopic(d: Destination): Destination {
  return destination('topic', `${ADVISORY_PREFIX}Producer.${typeName(d)}.${d.name}`);
}

const CONNECTION_ADVISORY = destination('topic', `${ADVISORY_PREFIX}Connection`);
const BRIDGE_ADVISORY = destination('topic', `${ADVISORY_PREFIX}NetworkBridge`);

/** In-process listeners for consumers coming and going (network bridges follow local demand this way). */
export interface ConsumerWatcher {
  added(c: ConsumerDescription): void;
  removed(c: ConsumerDescription): void;
}

/** ActiveMQ's NetworkBridge advisory headers: `createdByDuplex` only when the bridge started. */
function bridgeHeaders(b: BridgeDescription, started: boolean): Record<string, string> {
  const h: Record<string, string> = { started: String(started), remoteIp: b.remoteIp };
  if (started) h.createdByDuplex = String(b.createdByDuplex);
  return h;
}

/** ActiveMQ's body: the remote broker's BrokerInfo, as JSON (what ActiveMQ sends STOMP clients). */
function bridgeBody(b: BridgeDescription): unknown {
  return {
    BrokerInfo: {
      brokerId: { value: b.remoteBrokerId },
      brokerURL: b.remoteBrokerURL,
      networkConnection: true,
      duplexConnection: b.duplex,
      brokerName: b.remoteBrokerName,
      networkProperties: b.networkProperties,
    },
  };
}

export class Advisories {
  private readonly consumers = new Map<string, ConsumerDescription>();
  private readonly watchers = new Set<ConsumerWatcher>();
  private readonly bridges = new Map<string, BridgeDescription>();
  private sequence = 0;

  constructor(
    private readonly router: MessageRouter,
    private readonly origin: Origin,
  ) {}

  get consumerList(): readonly ConsumerDescription[] {
    return [...this.consumers.values()];
  }

  private consumerCount(d: Destination): number {
    let n = 0;
    for (const c of this.consumers.values()) if (c.destination.key === d.key) n++;
    return n;
  }

  private message(topic: Destination, body: unknown, headers: Record<string, string>): BrokerMessage {
    return new BrokerMessage({
      id: `${this.origin.brokerId}:advisory${++this.sequence}`,
      destination: topic,
      headers: createHeaders({ type: 'Advisory', originBrokerName: this.origin.brokerName, originBrokerId: this.origin.brokerId, originBrokerURL: this.origin.brokerURL(), transformation: 'jms-advisory-json', ...headers }),
      body: Buffer.from(JSON.stringify(body)),
      persistent: false,
      priority: 4,
      expiration: 0,
      timestamp: Date.now(),
    });
  }

  private publish(topic: Destination, body: unknown, headers: Record<string, string> = {}): void {
    if (this.router.hasSubscribers(topic)) this.router.send(this.message(topic, body, headers));
  }

  private consumerBody(c: ConsumerDescription): unknown {
    return {
      ConsumerInfo: {
        consumerId: c.consumerId,
        connectionId: c.connectionId,
        clientId: c.clientId,
        destination: stompName(c.destination),
        selector: c.selector,
        priority: c.priority,
        prefetchSize: c.prefetchSize,
        exclusive: c.exclusive,
        noLocal: c.noLocal,
        subscriptionName: c.subscriptionName,
        brokerPath: c.brokerPath,
        networkSubscription: c.brokerPath.length > 0,
      },
    };
  }

  /** Calls `watcher` for every consumer there is, then as consumers come and go; returns the way to stop. */
  watch(watcher: ConsumerWatcher): () => void {
    this.watchers.add(watcher);
    for (const c of [...this.consumers.values()]) watcher.added(c);
    return () => this.watchers.delete(watcher);
  }

  consumerAdded(c: ConsumerDescription): void {
    if (c.destination.name.startsWith(ADVISORY_PREFIX)) return;
    this.consumers.set(c.consumerId, c);
    for (const w of this.watchers) w.added(c);
    this.publish(consumerAdvisoryTopic(c.destination), this.consumerBody(c), { consumerCount: String(this.consumerCount(c.destination)) });
  }

  consumerRemoved(consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (!c) return;
    this.consumers.delete(consumerId);
    for (const w of this.watchers) w.removed(c);
    this.publish(consumerAdvisoryTopic(c.destination), { RemoveInfo: { objectId: consumerId, consumerId, destination: stompName(c.destination) } }, { consumerCount: String(this.consumerCount(c.destination)) });
  }

  producerAdded(d: Destination, connectionId: string): void {
    if (d.name.startsWith(ADVISORY_PREFIX)) return;
    this.publish(producerAdvisoryTopic(d), { ProducerInfo: { producerId: `${connectionId}:${d.key}`, connectionId, destination: stompName(d) } });
  }

  producerRemoved(d: Destination, connectionId: string): void {
    if (d.name.startsWith(ADVISORY_PREFIX)) return;
    this.publish(producerAdvisoryTopic(d), { RemoveInfo: { objectId: `${connectionId}:${d.key}`, connectionId, destination: stompName(d) } });
  }

  connectionAdded(info: { connectionId: string; clientId?: string | undefined; remoteAddress: string }): void {
    this.publish(CONNECTION_ADVISORY, { ConnectionInfo: info });
  }

  connectionRemoved(connectionId: string): void {
    this.publish(CONNECTION_ADVISORY, { RemoveInfo: { objectId: connectionId } });
  }

  bridgeStarted(b: BridgeDescription): void {
    this.bridges.set(b.bridgeId, b);
    this.publish(BRIDGE_ADVISORY, bridgeBody(b), bridgeHeaders(b, true));
  }

  bridgeStopped(bridgeId: string): void {
    const b = this.bridges.get(bridgeId);
    if (!b) return;
    this.bridges.delete(bridgeId);
    this.publish(BRIDGE_ADVISORY, bridgeBody(b), bridgeHeaders(b, false));
  }

  /** A new subscription to advisory topics first hears of the consumers and bridges that already exist. */
  replay(sub: TopicSubscription): void {
    const pattern = sub.destination.name;
    if (!pattern.startsWith('ActiveMQ.') && !pattern.startsWith('>') && !pattern.startsWith('*')) return;
    for (const c of this.consumers.values()) {
      const topic = consumerAdvisoryTopic(c.destination);
      if (matchesWildcard(pattern, topic.name)) sub.queue.offer(this.message(topic, this.consumerBody(c), { consumerCount: String(this.consumerCount(c.destination)) }));
    }
    if (matchesWildcard(pattern, BRIDGE_ADVISORY.name)) {
      for (const b of this.bridges.values()) sub.queue.offer(this.message(BRIDGE_ADVISORY, bridgeBody(b), bridgeHeaders(b, true)));
    }
  }
}

/**
 * `GET /metrics`: the broker's state in Prometheus' text format, through
 * prom-client (the Prometheus project's Node client: format, escaping and
 * content type kept right by its maintainers). Names follow ActiveMQ's JMX
 * attributes where one exists (QueueSize → amq_sim_queue_size,
 * MemoryPercentUsage → amq_sim_memory_percent_usage); docs/CONSOLE.md lists
 * them. Values are read from the broker's status when scraped, so nothing is
 * counted twice on the hot path.
 */
import type { Registry } from 'prom-client';
import type { BrokerStatus, QueueStatus, TopicStatus } from '../broker/status.js';
import { bridgesOf } from './bridge-view.js';

type Labels = Record<string, string>;

interface Metric {
  name: string;
  help: string;
  labels: string[];
  values: (s: BrokerStatus) => Array<[Labels, number]>;
}

const destinationLabels = ['destination', 'type'];
const queues = (s: BrokerStatus, pick: (q: QueueStatus) => number): Array<[Labels, number]> => s.queues.map((q) => [{ destination: q.name, type: 'queue' }, pick(q)]);
const topics = (s: BrokerStatus, pick: (t: TopicStatus) => number): Array<[Labels, number]> => s.topics.map((t) => [{ destination: t.name, type: 'topic' }, pick(t)]);

const bridgeLabels = (b: { name: string; remoteBrokerName: string | null }) => ({ bridge: b.name, remote: b.remoteBrokerName ?? '' });

const METRICS: Metric[] = [
  { name: 'amq_sim_broker_info', help: 'The broker and its role (master, slave, starting, stopped); always 1', labels: ['broker', 'role', 'version'], values: (s) => [[{ broker: s.brokerName, role: s.role, version: s.version }, 1]] },
  { name: 'amq_sim_lock_held', help: 'Whether this broker holds its store lock (shared-store master/slave)', labels: [], values: (s) => (s.lock ? [[{}, s.lock.held ? 1 : 0]] : []) },
  { name: 'amq_sim_current_connections_count', help: 'Client and bridge connections open now (ActiveMQ CurrentConnectionsCount)', labels: [], values: (s) => [[{}, s.connections]] },
  ...(['memory', 'store', 'temp'] as const).flatMap((u): Metric[] => [
    { name: `amq_sim_${u}_percent_usage`, help: `Percent of the ${u} limit in use (ActiveMQ ${u[0].toUpperCase()}${u.slice(1)}PercentUsage)`, labels: [], values: (s) => [[{}, s.usage[u].percent]] },
    { name: `amq_sim_${u}_limit_bytes`, help: `The ${u} limit (ActiveMQ ${u[0].toUpperCase()}${u.slice(1)}Limit)`, labels: [], values: (s) => [[{}, s.usage[u].limit]] },
  ]),
  { name: 'amq_sim_queue_size', help: 'Messages pending on a queue, in memory and in the store (ActiveMQ QueueSize)', labels: ['destination'], values: (s) => s.queues.map((q) => [{ destination: q.name }, q.pending]) },
  { name: 'amq_sim_memory_usage_byte_count', help: 'Bytes of a queue\'s messages held in memory (ActiveMQ MemoryUsageByteCount)', labels: ['destination'], values: (s) => s.queues.map((q) => [{ destination: q.name }, q.memory]) },
  { name: 'amq_sim_enqueue_count', help: 'Messages sent to a destination (ActiveMQ EnqueueCount)', labels: destinationLabels, values: (s) => [...queues(s, (q) => q.enqueued), ...topics(s, (t) => t.enqueued)] },
  { name: 'amq_sim_dequeue_count', help: 'Messages acknowledged on a destination (ActiveMQ DequeueCount)', labels: destinationLabels, values: (s) => queues(s, (q) => q.dequeued) },
  { name: 'amq_sim_dispatch_count', help: 'Messages handed to consumers (ActiveMQ DispatchCount)', labels: destinationLabels, values: (s) => queues(s, (q) => q.dispatched) },
  { name: 'amq_sim_expired_count', help: 'Messages that expired (ActiveMQ ExpiredCount)', labels: destinationLabels, values: (s) => queues(s, (q) => q.expired) },
  { name: 'amq_sim_consumer_count', help: 'Consumers (topic: subscriptions) on a destination (ActiveMQ ConsumerCount)', labels: destinationLabels, values: (s) => [...queues(s, (q) => q.consumers), ...topics(s, (t) => t.subscriptions)] },
  { name: 'amq_sim_bridge_up', help: 'Whether a network bridge is up', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.state === 'up' ? 1 : 0]) },
  { name: 'amq_sim_bridge_enqueue_counter', help: 'Messages a bridge forwarded (ActiveMQ NetworkBridge EnqueueCounter)', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.forwarded]) },
  { name: 'amq_sim_bridge_dequeue_counter', help: 'Forwarded messages the remote acknowledged (ActiveMQ NetworkBridge DequeueCounter)', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.acknowledged]) },
  { name: 'amq_sim_bridge_in_flight', help: 'Forwarded messages not yet acknowledged', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.inFlight]) },
  { name: 'amq_sim_bridge_stalls', help: 'Times the progress watchdog found a bridge stalled', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.stalls]) },
  { name: 'amq_sim_bridge_reconnects', help: 'Times a bridge reconnected', labels: ['bridge', 'remote'], values: (s) => bridgesOf(s).map((b) => [bridgeLabels(b), b.reconnects]) },
];

/** A registry of its own per broker (several brokers may share a process, as in tests); the status is read once a scrape. */
export class BrokerMetrics {
  private registry: Registry | null = null;
  private snapshot: BrokerStatus | null = null;

  constructor(private readonly status: () => BrokerStatus) {}

  async scrape(): Promise<{ contentType: string; body: string }> {
    this.registry ??= await this.createRegistry();
    this.snapshot = this.status();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** prom-client is loaded at the first scrape: a broker that is never scraped starts without it. */
  private async createRegistry(): Promise<Registry> {
    const { Gauge, Registry } = await import('prom-client');
    const registry = new Registry();
    const current = () => this.snapshot!;
    for (const m of METRICS) {
      new Gauge({
        name: m.name,
        help: m.help,
        labelNames: m.labels,
        registers: [registry],
        collect() {
          this.reset();
          for (const [labels, value] of m.values(current())) this.set(labels, value);
        },
      });
    }
    return registry;
  }
}

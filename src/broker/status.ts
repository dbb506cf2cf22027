import type { QueueStatistics } from './core/queue.js';
import type { TopicStatistics } from './core/topic.js';

export interface ConnectorStatus {
  uri: string;
  address: string;
  port: number;
  connections: number;
}

/** A queue in the broker's status (admin `GET /api/status`, the console, metrics). */
export interface QueueStatus extends QueueStatistics {
  name: string;
  /** In memory and in the store. */
  pending: number;
  /** In the store only (not paged in). */
  inStore: number;
  /** Bytes held in memory. */
  memory: number;
  consumers: number;
}

export interface TopicStatus extends TopicStatistics {
  name: string;
  subscriptions: number;
}

export interface DurableSubscriptionStatus {
  key: string;
  destination: string;
  active: boolean;
  pending: number;
}

export interface UsageStatus {
  used: number;
  limit: number;
  percent: number;
}

/** What a broker says of itself; extensions add their own parts under their names (`network`). */
export interface BrokerStatus {
  brokerName: string;
  brokerId: string;
  pid: number;
  role: string;
  /** The store lock of a shared store; `pollMs`: how often a slave tries it (lockAcquireSleepInterval). */
  lock: { path: string; held: boolean; holder: { brokerName: string; pid: number; host: string; acquiredAt: string } | null; pollMs: number } | null;
  version: string;
  uptimeSeconds: number;
  connectors: ConnectorStatus[];
  connections: number;
  usage: Record<'memory' | 'store' | 'temp', UsageStatus>;
  rss: number;
  store: Record<string, unknown>;
  queues: QueueStatus[];
  topics: TopicStatus[];
  durableSubscriptions: DurableSubscriptionStatus[];
  /** The job scheduler (schedulerSupport): jobs waiting, the next run, counts; null without it. */
  scheduler: Record<string, unknown> | null;
  [extension: string]: unknown;
}

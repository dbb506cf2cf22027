/**
 * What an operator can do to a running broker, as ActiveMQ's web console and
 * JMX operations do it: browse, send, purge, delete, move, copy and remove
 * messages, close a connection. The console's pages and the CLI (`amq-sim
 * browse`, `purge`) call these through the admin endpoint
 * (`POST /api/broker/<action>`, JSON arguments).
 */
import { type Destination, destination } from '../broker/core/destination.js';
import type { IdGenerator } from '../broker/core/ids.js';
import { BrokerMessage, DEFAULT_PRIORITY, type Headers } from '../broker/core/message.js';
import type { MessageRouter } from '../broker/core/router.js';
import { destinationFromKey, stompName } from '../broker/core/destination.js';
import type { JobScheduler, TimeRange } from '../broker/scheduler/job-scheduler.js';
import { adminError } from '../errors.js';
import type { BridgeView } from './bridge-view.js';
import { diagnose } from './diagnosis.js';

export interface ManagedConnection {
  readonly connectionId: string;
  describe(): Record<string, unknown>;
  close(): void;
}

/** What the management operations need of a broker. */
export interface ManagedBroker {
  readonly brokerName: string;
  readonly router: MessageRouter;
  /** Its network bridges, as the network extension reports them (none without it). */
  bridges(): BridgeView[];
  readonly ids: IdGenerator;
  connections(): Iterable<ManagedConnection>;
  /** The job scheduler, with schedulerSupport. */
  readonly scheduler: JobScheduler | null;
}

/** A scheduled job as the admin API shows it (ActiveMQ's JobSchedulerView: id, next run, delay, period, repeat, cron). */
export interface ScheduledJobView {
  jobId: string;
  destination: string;
  nextRun: string;
  delay: number;
  period: number;
  repeat: number;
  cron: string;
  message: BrowsedMessage;
}

/** The most messages one browse returns (ActiveMQ's console shows 400). */
const MAX_BROWSE = 1000;
const DEFAULT_BROWSE = 400;

export interface BrowsedMessage {
  messageId: string;
  destination: string;
  persistent: boolean;
  priority: number;
  timestamp: number;
  expiration: number;
  redelivered: boolean;
  headers: Headers;
  body: string;
  /** `utf8`, or `base64` for a body that is not text. */
  encoding: 'utf8' | 'base64';
  size: number;
}

/** `queue://a`, `topic://a`, `/queue/a`, `/topic/a`, or a bare name of the given type. */
export function adminDestination(text: string | undefined, type: 'queue' | 'topic' = 'queue'): Destination {
  if (!text) throw adminError(400, 'ADMIN_BAD_REQUEST', `a ${type} name is needed`);
  const m = /^(?:(queue|topic):\/\/|\/(queue|topic)\/)(.+)$/.exec(text);
  return m ? destination((m[1] ?? m[2]) as 'queue' | 'topic', m[3]) : destination(type, text);
}

function browsed(m: BrokerMessage): BrowsedMessage {
  const text = m.body.toString('utf8');
  const isText = Buffer.from(text, 'utf8').equals(m.body);
  return {
    messageId: m.id,
    destination: m.destination.key,
    persistent: m.persistent,
    priority: m.priority,
    timestamp: m.timestamp,
    expiration: m.expiration,
    redelivered: m.redeliveryCounter > 0,
    headers: { ...m.headers, ...m.brokerHeaders },
    body: isText ? text : m.body.toString('base64'),
    encoding: isText ? 'utf8' : 'base64',
    size: m.body.length,
  };
}

function checkMax(max: number): void {
  if (!Number.isInteger(max) || max < 1 || max > MAX_BROWSE) throw adminError(400, 'ADMIN_BAD_REQUEST', `max must be a whole number from 1 to ${MAX_BROWSE}`);
}

/** `start` and `end` (ms since the epoch, or ISO times) as ActiveMQ's ACTION_START_TIME and ACTION_END_TIME; none: every job. */
function timeRange(args: Record<string, string>): TimeRange | null {
  if (args.start === undefined && args.end === undefined) return null;
  const time = (text: string | undefined, name: string) => {
    const t = text === undefined ? NaN : /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (!Number.isFinite(t)) throw adminError(400, 'ADMIN_BAD_REQUEST', `${name} must be a time (ms since the epoch, or ISO 8601), both start and end`);
    return t;
  };
  return { start: time(args.start, 'start'), end: time(args.end, 'end') };
}

export class BrokerManagement {
  constructor(private readonly broker: ManagedBroker) {}

  /** Runs `POST /api/broker/<action>`. */
  run(action: string, args: Record<string, string>): Promise<unknown> | unknown {
    switch (action) {
      case 'browse':
        return this.browse(adminDestination(args.queue), args.max === undefined ? DEFAULT_BROWSE : Number(args.max));
      case 'send':
        return this.send(adminDestination(args.destination), args);
      case 'purge':
        return { purged: this.existingQueue(adminDestination(args.queue)).purge() };
      case 'delete':
        return this.delete(args.topic !== undefined ? adminDestination(args.topic, 'topic') : adminDestination(args.queue));
      case 'move':
      case 'copy':
        return this.transfer(action, adminDestination(args.queue), args.messageId, adminDestination(args.to));
      case 'remove-message':
        return this.removeMessage(adminDestination(args.queue), args.messageId);
      case 'why':
        return diagnose(this.broker.router, adminDestination(args.destination), this.broker.bridges(), this.broker.brokerName);
      case 'connections':
        return { connections: [...this.broker.connections()].map((c) => c.describe()) };
      case 'close-connection':
        return this.closeConnection(args.connectionId);
      case 'scheduled':
        return this.scheduled(timeRange(args), args.max === undefined ? DEFAULT_BROWSE : Number(args.max));
      case 'remove-scheduled':
        if (!this.scheduler().remove(args.jobId ?? '')) throw adminError(404, 'ADMIN_NOT_FOUND', `No scheduled job ${args.jobId}`);
        return { removed: args.jobId };
      case 'remove-all-scheduled':
        return { removed: this.scheduler().removeAll(timeRange(args)) };
      default:
        throw adminError(
          404,
          'ADMIN_NOT_FOUND',
          `No broker operation '${action}' (browse, send, purge, delete, move, copy, remove-message, why, connections, close-connection, scheduled, remove-scheduled, remove-all-scheduled)`,
        );
    }
  }

  private scheduler(): JobScheduler {
    const s = this.broker.scheduler;
    if (!s) throw adminError(404, 'ADMIN_NOT_FOUND', 'This broker has no job scheduler: start it with schedulerSupport (--scheduler-support)');
    return s;
  }

  private async scheduled(range: TimeRange | null, max: number): Promise<{ jobs: ScheduledJobView[] }> {
    checkMax(max);
    const records = await this.scheduler().browse(range, max);
    return {
      jobs: records.map((r) => {
        const dest = destinationFromKey(r.destination);
        return {
          jobId: r.id,
          destination: stompName(dest),
          nextRun: new Date(r.at).toISOString(),
          ...r.schedule,
          message: browsed(new BrokerMessage({ ...r.message, destination: dest, persistent: r.persistent, bodyShared: true })),
        };
      }),
    };
  }

  private existingQueue(dest: Destination) {
    const q = this.broker.router.queues.get(dest.key);
    if (!q) throw adminError(404, 'ADMIN_NOT_FOUND', `No queue ${dest.name}`);
    return q;
  }

  private async browse(dest: Destination, max: number): Promise<{ queue: string; messages: BrowsedMessage[] }> {
    checkMax(max);
    const messages: BrowsedMessage[] = [];
    for await (const m of this.existingQueue(dest).browse()) {
      messages.push(browsed(m));
      if (messages.length === max) break;
    }
    return { queue: dest.name, messages };
  }

  private send(dest: Destination, args: Record<string, string>): { messageId: string } {
    let headers: Headers = {};
    if (args.headers) {
      try {
        headers = JSON.parse(args.headers) as Headers;
      } catch {
        throw adminError(400, 'ADMIN_BAD_REQUEST', 'headers must be a JSON object of strings');
      }
      if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) throw adminError(400, 'ADMIN_BAD_REQUEST', 'headers must be a JSON object of strings');
    }
    const message = new BrokerMessage({
      id: this.broker.ids.next('m'),
      destination: dest,
      headers,
      body: Buffer.from(args.body ?? '', 'utf8'),
      persistent: args.persistent === 'true',
      priority: args.priority === undefined ? DEFAULT_PRIORITY : Math.min(9, Math.max(0, Number(args.priority) || 0)),
      expiration: 0,
      timestamp: Date.now(),
    });
    this.broker.router.send(message);
    return { messageId: message.id };
  }

  private delete(dest: Destination): { deleted: string } {
    const exists = dest.type === 'queue' ? this.broker.router.queues.has(dest.key) : this.broker.router.topics.has(dest.key);
    if (!exists) throw adminError(404, 'ADMIN_NOT_FOUND', `No ${dest.type} ${dest.name}`);
    this.broker.router.removeDestination(dest);
    return { deleted: dest.key };
  }

  /** ActiveMQ's moveMessageTo / copyMessageTo, for a message memory holds (the first page of a backlog). */
  private transfer(action: 'move' | 'copy', from: Destination, messageId: string | undefined, to: Destination): { messageId: string; to: string } {
    const queue = this.existingQueue(from);
    const original = this.findInMemory(queue.pending.toArray(), from, messageId);
    if (action === 'move') queue.removePending(original.id);
    const copy = new BrokerMessage({ ...original.toInit(), id: action === 'move' ? original.id : this.broker.ids.next('m'), destination: to, brokerPath: [], redeliveryCounter: 0 });
    this.broker.router.send(copy);
    return { messageId: copy.id, to: to.key };
  }

  private removeMessage(from: Destination, messageId: string | undefined): { removed: string } {
    const queue = this.existingQueue(from);
    if (!queue.removePending(this.findInMemory(queue.pending.toArray(), from, messageId).id)) throw adminError(404, 'ADMIN_NOT_FOUND', `Message ${messageId} left ${from.name} meanwhile`);
    return { removed: messageId! };
  }

  private findInMemory(pending: readonly BrokerMessage[], from: Destination, messageId: string | undefined): BrokerMessage {
    if (!messageId) throw adminError(400, 'ADMIN_BAD_REQUEST', 'messageId is needed');
    const m = pending.find((x) => x.id === messageId);
    if (!m) throw adminError(404, 'ADMIN_NOT_FOUND', `No message ${messageId} pending in memory on ${from.name} (it was consumed, or it is deeper in the store backlog than the page in memory)`);
    return m;
  }

  private closeConnection(connectionId: string | undefined): { closed: string } {
    const c = [...this.broker.connections()].find((x) => x.connectionId === connectionId);
    if (!c) throw adminError(404, 'ADMIN_NOT_FOUND', `No connection ${connectionId}`);
    c.close();
    return { closed: c.connectionId };
  }
}

/**
 * ActiveMQ's job scheduler (`schedulerSupport`): messages sent with
 * `AMQ_SCHEDULED_*` headers are kept as jobs in the store and sent to their
 * destination when due; messages sent to `ActiveMQ.Scheduler.Management`
 * browse and remove jobs. A job that fires is removed (or rescheduled) in
 * the same store batch that stores the message it sends, so it fires once,
 * across restarts and master/slave failover alike.
 */
import type { Logger } from '../../config/logger.js';
import { SCHEDULER_HOLDER } from '../../store/holders.js';
import type { MessageStore, StoredMessage, StoreOp, WriteCallback } from '../../store/types.js';
import { type Destination, destination, destinationFromKey, parseStompDestination, stompName } from '../core/destination.js';
import { BrokerMessage, type Headers } from '../core/message.js';
import type { MessageRouter, SendInterceptor } from '../core/router.js';
import { type Job, JobQueue } from './job-queue.js';
import { type JobRecord, jobFromStored, jobTime, storedJob } from './job-record.js';
import {
  ACTION_END_TIME,
  ACTION_START_TIME,
  firstRun,
  isManagementName,
  isScheduled,
  readSchedule,
  runDue,
  SCHEDULED_CRON,
  SCHEDULED_DELAY,
  SCHEDULED_JOB_ID,
  SCHEDULED_PERIOD,
  SCHEDULED_REPEAT,
  SCHEDULER_ACTION,
} from './schedule.js';

export interface SchedulerOptions {
  router: MessageRouter;
  store: MessageStore;
  logger: Logger;
  newId: (kind: string) => string;
  /** A new job's start is rounded up to this many ms (ActiveMQ: 500); 0 keeps it exact. */
  startRounding: number;
}

/** Jobs whose time is within [start, end] (ms), as ActiveMQ's ACTION_START_TIME / ACTION_END_TIME. */
export interface TimeRange {
  start: number;
  end: number;
}

/** The most jobs fired (or read) in one go. */
const BATCH = 256;
/** How long a job waits when its destination refuses messages for now (producer flow control). */
const FLOW_CONTROL_RETRY_MS = 100;
/** How long firing pauses after the store failed a job's firing (a full disk, say). */
const STORE_RETRY_MS = 1000;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class JobScheduler implements SendInterceptor {
  private readonly jobs = new Map<string, Job>();
  private readonly queue = new JobQueue();
  /** Job records by id, kept here when the store is memory itself (it reads back slowly). */
  private readonly records: Map<string, StoredMessage> | null;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private running = false;
  private firing = false;
  /** Nothing fires before this (ms): a destination refused messages, or the store failed. */
  private pausedUntil = 0;
  /** The store failed a job's firing and has not taken one since (said once, not once per job). */
  private storeFailing = false;
  readonly stats = { scheduled: 0, fired: 0, removed: 0 };

  constructor(private readonly o: SchedulerOptions) {
    this.records = o.store.pagesOut ? null : new Map();
  }

  get size(): number {
    return this.jobs.size;
  }

  takes(m: BrokerMessage): boolean {
    return isScheduled(m.headers) || isManagementName(m.destination.name);
  }

  take(m: BrokerMessage, done?: WriteCallback): void {
    const { op, stored } = this.prepare(m);
    if (!op) {
      stored();
      done?.();
      return;
    }
    this.o.store.write(op, (err, position) => {
      if (!err) stored(position);
      done?.(err);
    });
  }

  prepare(m: BrokerMessage): { op: StoreOp | null; stored: (position?: number) => void } {
    if (isManagementName(m.destination.name)) return { op: null, stored: () => this.manage(m) };
    const schedule = readSchedule(m.headers);
    m.compact();
    const record: JobRecord = { id: this.o.newId('job'), destination: m.destination.key, persistent: m.persistent, at: firstRun(schedule, Date.now(), this.o.startRounding), schedule, message: m };
    const stored = storedJob(record);
    return {
      op: { op: 'add', destination: SCHEDULER_HOLDER, message: stored },
      stored: (position) => {
        this.stats.scheduled++;
        this.addJob(record.id, record.at, position, stored);
      },
    };
  }

  /** Reads the jobs the store holds (after recovery, before `start`). */
  async recover(): Promise<void> {
    const backlog = this.o.store.backlog(SCHEDULER_HOLDER);
    const upTo = backlog.last;
    let after = 0;
    for (;;) {
      const page = await backlog.read(after, upTo, 1000);
      if (page.length === 0) break;
      for (const { position, message } of page) {
        const job = jobTime(message);
        if (job) this.addJob(job.id, job.at, position, message);
        else this.dropDamaged(position);
      }
      after = page[page.length - 1].position;
    }
    if (this.jobs.size > 0) this.o.logger.info({ jobs: this.jobs.size }, `Job scheduler recovered ${this.jobs.size} scheduled jobs`);
  }

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  /** The jobs waiting, by time (all, or those due within `range`), at most `max`, read from the store. */
  async browse(range: TimeRange | null = null, max = Infinity): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for await (const page of this.pages(range)) {
      out.push(...page.slice(0, max - out.length));
      if (out.length >= max) break;
    }
    return out;
  }

  /** The jobs waiting, by time, read from the store a page at a time (a million jobs are never read at once). */
  private async *pages(range: TimeRange | null): AsyncGenerator<JobRecord[]> {
    const jobs = [...this.jobs.values()].filter((j) => j.state === 'waiting' && inRange(j.at, range));
    jobs.sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (let i = 0; i < jobs.length; i += BATCH) {
      const records = await Promise.all(jobs.slice(i, i + BATCH).map((j) => this.read(j)));
      yield records.filter((r): r is JobRecord => r !== null);
    }
  }

  /** ActiveMQ's removeJob: true when the job was waiting. */
  remove(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.state !== 'waiting') return false;
    this.forget(job);
    this.queue.skipRemoved();
    this.arm();
    return true;
  }

  /** ActiveMQ's removeAllJobs (within a time range when given): how many were removed. */
  removeAll(range: TimeRange | null = null): number {
    let n = 0;
    for (const job of this.jobs.values()) {
      if (job.state === 'waiting' && inRange(job.at, range)) {
        this.forget(job);
        n++;
      }
    }
    if (n > 0) this.queue.compact();
    this.arm();
    return n;
  }

  describe(): Record<string, unknown> {
    this.queue.skipRemoved();
    const next = this.queue.peek();
    return { jobs: this.jobs.size, nextRun: next ? new Date(next.at).toISOString() : null, ...this.stats };
  }

  // ---- jobs in memory ----

  private addJob(id: string, at: number, position: number | undefined, record: StoredMessage): void {
    const job: Job = { id, at, position, state: 'waiting', seq: this.seq++ };
    this.jobs.set(id, job);
    this.records?.set(id, record);
    this.queue.push(job);
    this.arm();
  }

  private forget(job: Job): void {
    job.state = 'removed';
    this.jobs.delete(job.id);
    this.records?.delete(job.id);
    this.stats.removed++;
    this.o.store.write({ op: 'remove', destination: SCHEDULER_HOLDER, messageId: job.id, position: job.position });
  }

  private dropDamaged(position: number): void {
    this.o.logger.warn({ position }, 'A scheduled job record could not be read; it is dropped');
    this.o.store.write({ op: 'remove', destination: SCHEDULER_HOLDER, messageId: '', position });
  }

  private async read(job: Job): Promise<JobRecord | null> {
    const kept = this.records?.get(job.id);
    if (kept) return jobFromStored(kept);
    if (job.position === undefined) return null;
    const [page] = await this.o.store.backlog(SCHEDULER_HOLDER).read(job.position - 1, job.position, 1);
    return page?.position === job.position ? jobFromStored(page.message) : null;
  }

  // ---- firing ----

  /** Sets the timer for the next job due (sooner than the one set, if any). */
  private arm(): void {
    if (!this.running || this.firing) return;
    this.queue.skipRemoved();
    const next = this.queue.peek();
    if (!next) return;
    const at = Math.max(next.at, this.pausedUntil);
    if (this.timer && at >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      void this.fireDue();
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
    this.timer.unref();
  }

  private async fireDue(): Promise<void> {
    if (this.firing || !this.running) return;
    this.firing = true;
    try {
      for (;;) {
        const now = Date.now();
        const due: Job[] = [];
        this.queue.skipRemoved();
        for (let top = this.queue.peek(); top && top.at <= now && due.length < BATCH; top = this.queue.peek()) {
          this.queue.pop();
          top.state = 'firing';
          due.push(top);
          this.queue.skipRemoved();
        }
        if (due.length === 0 || !this.running) break;
        const records = await Promise.all(due.map((j) => this.read(j)));
        const outcomes = await Promise.all(due.map((job, i) => this.run(job, records[i], now)));
        // A full destination or a failing store pauses all firing (as ActiveMQ's scheduler thread blocks), not one job at a time.
        if (outcomes.includes('failed')) this.pausedUntil = Date.now() + STORE_RETRY_MS;
        else if (outcomes.includes('refused')) this.pausedUntil = Date.now() + FLOW_CONTROL_RETRY_MS;
        if (this.pausedUntil > Date.now()) break;
      }
    } finally {
      this.firing = false;
      this.arm();
    }
  }

  /** Fires one due job: its message goes out in the same store batch as the job's removal or rescheduling. */
  private run(job: Job, record: JobRecord | null, now: number): Promise<'fired' | 'refused' | 'failed'> {
    if (!record) {
      this.jobs.delete(job.id);
      if (job.position !== undefined) this.dropDamaged(job.position);
      return Promise.resolve('fired');
    }
    if (this.o.router.flowControl.admit(destinationFromKey(record.destination), record.persistent, 'scheduler')) {
      this.putBack(job);
      return Promise.resolve('refused');
    }
    const run = runDue(record.schedule, now);
    const next: JobRecord | null = run.next ? { ...record, at: run.next.at, schedule: { ...record.schedule, repeat: run.next.repeat } } : null;
    const spawned: JobRecord | null = run.spawn ? { ...record, id: this.o.newId('job'), at: firstRun(run.spawn, now, this.o.startRounding), schedule: run.spawn } : null;
    const nextStored = next && storedJob(next);
    const spawnedStored = spawned && storedJob(spawned);
    const ops: StoreOp[] = [];
    for (const m of [nextStored, spawnedStored]) if (m) ops.push({ op: 'add', destination: SCHEDULER_HOLDER, message: m });
    ops.push({ op: 'remove', destination: SCHEDULER_HOLDER, messageId: job.id, position: job.position });
    const txId = `scheduler:${job.id}:${now}`;
    return new Promise((resolve) => {
      const stored = (err: Error | undefined, positions: ReadonlyArray<number | undefined>) => {
        if (err) {
          if (!this.storeFailing) this.o.logger.error({ jobId: job.id, err: err.message }, `Failed to send scheduled message ${job.id}: scheduled jobs wait until the store takes writes again`);
          this.storeFailing = true;
          this.putBack(job);
          return resolve('failed');
        }
        if (this.storeFailing) this.o.logger.info('The store takes writes again: scheduled jobs fire');
        this.storeFailing = false;
        if (run.fire) this.stats.fired++;
        this.records?.delete(job.id);
        if (next && nextStored) {
          job.at = next.at;
          job.position = positions[0];
          job.state = 'waiting';
          this.records?.set(job.id, nextStored);
          this.queue.push(job);
        } else this.jobs.delete(job.id);
        if (spawned && spawnedStored) this.addJob(spawned.id, spawned.at, positions[next ? 1 : 0], spawnedStored);
        resolve('fired');
      };
      if (run.fire) this.o.router.commit(txId, [this.fired(job.id, record, now)], [], (err, position) => stored(err, [position]), ops);
      else this.o.store.commit(txId, ops, (err, positions) => stored(err, positions ?? []));
    });
  }

  /** A job that could not fire now waits again, at its time (it goes first when firing resumes). */
  private putBack(job: Job): void {
    job.state = 'waiting';
    this.queue.push(job);
  }

  /** The message a job sends: its scheduling headers gone, `scheduledJobId` added, its time to live counted from now (ActiveMQ's scheduledJob). */
  private fired(jobId: string, record: JobRecord, now: number): BrokerMessage {
    const m = record.message;
    const headers: Headers = { ...m.headers, [SCHEDULED_JOB_ID]: jobId };
    // A message that may be sent again gets an id of its own each time.
    const again = (m.headers[SCHEDULED_REPEAT] !== undefined && Number(m.headers[SCHEDULED_REPEAT]) !== 0) || (m.headers[SCHEDULED_CRON] ?? '') !== '';
    for (const h of [SCHEDULED_DELAY, SCHEDULED_PERIOD, SCHEDULED_REPEAT, SCHEDULED_CRON]) delete headers[h];
    let { timestamp, expiration } = m;
    if (timestamp > 0 && expiration > 0 && expiration - timestamp + now > expiration) {
      expiration = expiration - timestamp + now;
      timestamp = now;
    }
    return new BrokerMessage({
      id: again ? this.o.newId('m') : m.id,
      destination: destinationFromKey(record.destination),
      headers,
      body: m.body,
      persistent: record.persistent,
      priority: m.priority,
      expiration,
      timestamp,
      brokerPath: m.brokerPath,
      brokerHeaders: m.brokerHeaders,
      bodyShared: true,
    });
  }

  // ---- ActiveMQ.Scheduler.Management ----

  /** A message to the management destination: AMQ_SCHEDULER_ACTION BROWSE (to its reply-to), REMOVE (scheduledJobId) or REMOVEALL. */
  private manage(m: BrokerMessage): void {
    const h = m.headers;
    const action = h[SCHEDULER_ACTION];
    const range = timeRange(h);
    if (action === 'BROWSE' && h['reply-to'] !== undefined) {
      const replyTo = replyDestination(h['reply-to']);
      if (replyTo) void this.browseTo(replyTo, range);
    }
    const jobId = h[SCHEDULED_JOB_ID];
    if (action === 'REMOVE' && jobId !== undefined) this.remove(jobId);
    else if (action === 'REMOVEALL') this.removeAll(range);
  }

  /**
   * Each job, as a non-persistent copy of its message with `scheduledJobId`,
   * to the browser's reply-to (ActiveMQ's sendScheduledJob), a page at a
   * time, waiting while the reply-to refuses messages (its limits hold).
   */
  private async browseTo(replyTo: Destination, range: TimeRange | null): Promise<void> {
    for await (const page of this.pages(range)) {
      while (this.running && this.o.router.flowControl.admit(replyTo, false, 'scheduler')) await new Promise((r) => setTimeout(r, FLOW_CONTROL_RETRY_MS).unref());
      if (!this.running) return;
      for (const record of page) {
        const m = record.message;
        this.o.router.send(
          new BrokerMessage({
            id: this.o.newId('m'),
            destination: replyTo,
            headers: { ...m.headers, [SCHEDULED_JOB_ID]: record.id, type: 'Advisory', 'original-destination': stompName(destinationFromKey(record.destination)) },
            body: m.body,
            persistent: false,
            priority: m.priority,
            expiration: 0,
            timestamp: Date.now(),
            bodyShared: true,
          }),
        );
      }
    }
  }

}

function inRange(at: number, range: TimeRange | null): boolean {
  return range === null || (at >= range.start && at <= range.end);
}

function timeRange(h: Headers): TimeRange | null {
  const start = Number(h[ACTION_START_TIME]);
  const end = Number(h[ACTION_END_TIME]);
  return h[ACTION_START_TIME] !== undefined && h[ACTION_END_TIME] !== undefined && Number.isFinite(start) && Number.isFinite(end) ? { start, end } : null;
}

/** The browser's reply-to, as SEND left it (`/remote-temp-queue/…` for a temporary queue); null when it names none. */
function replyDestination(text: string): Destination | null {
  try {
    return parseStompDestination(text, { temporary: (type, name) => destination(type, name, true) });
  } catch {
    return null;
  }
}

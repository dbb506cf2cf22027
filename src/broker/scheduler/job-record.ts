/**
 * A scheduled job as the store keeps it: the message as it was sent, with
 * the job's state in one broker header (taken off again when it fires).
 */
import type { StoredMessage } from '../../store/types.js';
import type { Headers } from '../core/message.js';
import type { Schedule } from './schedule.js';

const JOB_HEADER = 'amq-sim-job';

export interface JobRecord {
  id: string;
  /** The destination key it fires to. */
  destination: string;
  persistent: boolean;
  /** When it runs next (ms). */
  at: number;
  /** Its schedule; `repeat` counts the runs left. */
  schedule: Schedule;
  /** The message as sent, with its own broker headers. */
  message: StoredMessage;
}

interface JobState {
  id: string;
  destination: string;
  persistent: boolean;
  at: number;
  delay: number;
  period: number;
  repeat: number;
  cron: string;
}

export function storedJob(job: JobRecord): StoredMessage {
  const state: JobState = { id: job.id, destination: job.destination, persistent: job.persistent, at: job.at, ...job.schedule };
  const m = job.message;
  return {
    id: m.id,
    headers: m.headers,
    body: m.body,
    priority: m.priority,
    expiration: m.expiration,
    timestamp: m.timestamp,
    brokerPath: m.brokerPath,
    redeliveryCounter: 0,
    brokerHeaders: { ...m.brokerHeaders, [JOB_HEADER]: JSON.stringify(state) },
  };
}

function jobState(stored: StoredMessage): JobState | null {
  const text = stored.brokerHeaders?.[JOB_HEADER];
  if (text === undefined) return null;
  let s: JobState;
  try {
    s = JSON.parse(text) as JobState;
  } catch {
    return null;
  }
  const numbers = [s.at, s.delay, s.period, s.repeat];
  if (typeof s.id !== 'string' || typeof s.destination !== 'string' || typeof s.cron !== 'string' || numbers.some((n) => typeof n !== 'number')) return null;
  return s;
}

/** A stored job's id and next run (all recovery needs of it); null for a record that is not one (damage). */
export function jobTime(stored: StoredMessage): { id: string; at: number } | null {
  const s = jobState(stored);
  return s && { id: s.id, at: s.at };
}

/** The job a stored record holds; null for a record that is not one (damage). */
export function jobFromStored(stored: StoredMessage): JobRecord | null {
  const s = jobState(stored);
  if (!s) return null;
  const brokerHeaders: Headers = { ...stored.brokerHeaders };
  delete brokerHeaders[JOB_HEADER];
  return {
    id: s.id,
    destination: s.destination,
    persistent: s.persistent !== false,
    at: s.at,
    schedule: { delay: s.delay, period: s.period, repeat: s.repeat, cron: s.cron },
    message: { ...stored, brokerHeaders: Object.keys(brokerHeaders).length > 0 ? brokerHeaders : undefined },
  };
}

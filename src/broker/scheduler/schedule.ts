/**
 * ActiveMQ's scheduled delivery headers, and when a job runs: the rules of
 * its `SchedulerBroker` and `JobSchedulerImpl` (5.17).
 */
import { CronExpressionParser } from 'cron-parser';
import { protocolError } from '../../errors.js';
import type { Headers } from '../core/message.js';

export const SCHEDULED_DELAY = 'AMQ_SCHEDULED_DELAY';
export const SCHEDULED_PERIOD = 'AMQ_SCHEDULED_PERIOD';
export const SCHEDULED_REPEAT = 'AMQ_SCHEDULED_REPEAT';
export const SCHEDULED_CRON = 'AMQ_SCHEDULED_CRON';
/** Set on every message the scheduler sends (fired or browsed); a message carrying it is not scheduled again. */
export const SCHEDULED_JOB_ID = 'scheduledJobId';
export const SCHEDULER_MANAGEMENT = 'ActiveMQ.Scheduler.Management';
export const SCHEDULER_ACTION = 'AMQ_SCHEDULER_ACTION';
export const ACTION_START_TIME = 'ACTION_START_TIME';
export const ACTION_END_TIME = 'ACTION_END_TIME';

/** ActiveMQ's SchedulerBroker.MAX_REPEAT_ALLOWED. */
export const MAX_REPEAT_ALLOWED = 1000;

/** How a job runs. `repeat`: runs left after the next one (negative: for ever); `cron`: empty for none. */
export interface Schedule {
  delay: number;
  period: number;
  repeat: number;
  cron: string;
}

/** True when the headers ask for scheduled delivery (any of delay, period, cron, as ActiveMQ). */
export function isScheduled(h: Headers): boolean {
  return h[SCHEDULED_JOB_ID] === undefined && (h[SCHEDULED_DELAY] !== undefined || h[SCHEDULED_PERIOD] !== undefined || h[SCHEDULED_CRON] !== undefined);
}

/** The schedule a message's headers ask for; a bad value is the producer's error, as in ActiveMQ. */
export function readSchedule(h: Headers): Schedule {
  const repeat = wholeNumber(h, SCHEDULED_REPEAT);
  if (repeat > MAX_REPEAT_ALLOWED) throw protocolError('SCHEDULER_REPEAT_TOO_LARGE');
  const period = wholeNumber(h, SCHEDULED_PERIOD);
  // ActiveMQ takes it, and then sends the message again and again without pause: a flood from one SEND.
  if (repeat < 0 && period <= 0) throw protocolError('SCHEDULER_ENDLESS_WITHOUT_PERIOD', repeat);
  const cron = h[SCHEDULED_CRON] ?? '';
  if (cron !== '') checkCron(cron);
  return { delay: wholeNumber(h, SCHEDULED_DELAY), period, repeat, cron };
}

function wholeNumber(h: Headers, name: string): number {
  const text = h[name];
  if (text === undefined) return 0;
  if (!/^[+-]?\d+$/.test(text.trim())) throw protocolError('STOMP_INVALID_HEADER', name, text);
  return Number(text.trim());
}

/** Five fields (minute hour day-of-month month day-of-week), as ActiveMQ's CronParser. */
function checkCron(cron: string): void {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw protocolError('SCHEDULER_INVALID_CRON', `Not a valid cron entry - wrong number of tokens(${fields.length}): ${cron}`);
  try {
    CronExpressionParser.parse(cron);
  } catch (err) {
    throw protocolError('SCHEDULER_INVALID_CRON', `Invalid cron entry ${cron}: ${(err as Error).message}`);
  }
}

/** The first minute the cron entry names after `after` (ms). */
export function nextCronTime(cron: string, after: number): number {
  return CronExpressionParser.parse(cron, { currentDate: new Date(after) }).next().getTime();
}

/**
 * When a new job first runs: at the cron entry's next time, else now; plus
 * the delay, or the period when there is no delay. `roundTo` rounds the
 * start up as ActiveMQ does (500 ms there: jobs fire up to half a second
 * late); 0 does not round.
 */
export function firstRun(s: Schedule, now: number, roundTo: number): number {
  const start = roundTo > 0 ? Math.floor((now + roundTo) / roundTo) * roundTo : now;
  const base = s.cron !== '' ? nextCronTime(s.cron, start) : start;
  return base + (s.delay > 0 ? s.delay : s.period);
}

/**
 * What a job does when it is due: `fire` sends its message; `next` is when it
 * runs again (null: never), with `repeat` runs left; `spawn`: a cron job with
 * a repeat starts a separate schedule of delay, period and repeat instead of
 * firing itself.
 */
export interface Run {
  fire: boolean;
  next: { at: number; repeat: number } | null;
  spawn: Schedule | null;
}

export function runDue(s: Schedule, now: number): Run {
  if (s.cron !== '') {
    const next = { at: nextCronTime(s.cron, now), repeat: s.repeat };
    return s.repeat === 0 ? { fire: true, next, spawn: null } : { fire: false, next, spawn: { ...s, cron: '' } };
  }
  if (s.repeat === 0) return { fire: true, next: null, spawn: null };
  return { fire: true, next: { at: now + s.period, repeat: s.repeat > 0 ? s.repeat - 1 : s.repeat }, spawn: null };
}

/** ActiveMQ's management destination: a queue or topic named so (case aside), with anything after. */
export function isManagementName(name: string): boolean {
  return MANAGEMENT_NAME.test(name);
}

/** Tested on every message the router sees while the scheduler runs: a regex, no copy of the name. */
const MANAGEMENT_NAME = /^activemq\.scheduler\.management/i;

import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../src/errors.js';
import { firstRun, isManagementName, isScheduled, readSchedule, runDue } from '../../../src/broker/scheduler/schedule.js';

const NOON = Date.UTC(2026, 10, 30, 12, 0, 10);

describe('scheduled delivery headers', () => {
  it('schedule a message for delay, period or cron (not repeat alone), unless the scheduler already fired it', () => {
    expect(isScheduled({ AMQ_SCHEDULED_DELAY: '0' })).toBe(true);
    expect(isScheduled({ AMQ_SCHEDULED_PERIOD: '10' })).toBe(true);
    expect(isScheduled({ AMQ_SCHEDULED_CRON: '* * * * *' })).toBe(true);
    expect(isScheduled({ AMQ_SCHEDULED_REPEAT: '3' })).toBe(false);
    expect(isScheduled({ AMQ_SCHEDULED_DELAY: '10', scheduledJobId: 'j1' })).toBe(false);
    expect(readSchedule({ AMQ_SCHEDULED_DELAY: '1000', AMQ_SCHEDULED_PERIOD: '200', AMQ_SCHEDULED_REPEAT: '-1' })).toEqual({ delay: 1000, period: 200, repeat: -1, cron: '' });
  });

  it("refuse what ActiveMQ refuses, with its texts: a repeat above 1000, numbers that are not whole, cron entries without five fields", () => {
    const refusal = (h: Record<string, string>) => {
      try {
        readSchedule(h);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
        return (err as Error).message;
      }
      return null;
    };
    expect(refusal({ AMQ_SCHEDULED_DELAY: '1', AMQ_SCHEDULED_REPEAT: '1001' })).toBe('The scheduled repeat value is too large');
    expect(refusal({ AMQ_SCHEDULED_DELAY: '1', AMQ_SCHEDULED_REPEAT: '1000' })).toBeNull();
    expect(refusal({ AMQ_SCHEDULED_DELAY: '1.5' })).toBe('Invalid AMQ_SCHEDULED_DELAY header: 1.5');
    // Stricter than ActiveMQ, which takes it and floods: for ever takes a pause between the runs.
    expect(refusal({ AMQ_SCHEDULED_DELAY: '1', AMQ_SCHEDULED_REPEAT: '-1' })).toBe('AMQ_SCHEDULED_REPEAT -1 (for ever) needs an AMQ_SCHEDULED_PERIOD above 0');
    expect(refusal({ AMQ_SCHEDULED_CRON: '* * * * *', AMQ_SCHEDULED_REPEAT: '-1', AMQ_SCHEDULED_PERIOD: '0' })).toMatch(/needs an AMQ_SCHEDULED_PERIOD above 0/);
    expect(refusal({ AMQ_SCHEDULED_PERIOD: '10', AMQ_SCHEDULED_REPEAT: '-1' })).toBeNull();
    expect(refusal({ AMQ_SCHEDULED_CRON: '* * * *' })).toBe('Not a valid cron entry - wrong number of tokens(4): * * * *');
    expect(refusal({ AMQ_SCHEDULED_CRON: '0 0 * * * *' })).toMatch(/wrong number of tokens\(6\)/);
    expect(refusal({ AMQ_SCHEDULED_CRON: '99 * * * *' })).toMatch(/^Invalid cron entry 99 \* \* \* \*/);
  });

  it('first run: now plus the delay, else plus the period; a cron entry starts from its next minute; ActiveMQ rounds the start up to 500 ms when asked', () => {
    expect(firstRun({ delay: 1500, period: 0, repeat: 0, cron: '' }, NOON, 0)).toBe(NOON + 1500);
    expect(firstRun({ delay: 0, period: 300, repeat: 2, cron: '' }, NOON, 0)).toBe(NOON + 300);
    expect(firstRun({ delay: 1500, period: 300, repeat: 2, cron: '' }, NOON + 123, 500)).toBe(NOON + 500 + 1500);
    expect(firstRun({ delay: 0, period: 0, repeat: 0, cron: '*/5 * * * *' }, NOON, 0)).toBe(Date.UTC(2026, 10, 30, 12, 5));
  });

  it('when due: fire, then again a period later with one repeat less, for ever when negative; cron jobs fire at each time, or start a separate schedule when they have a repeat', () => {
    expect(runDue({ delay: 10, period: 0, repeat: 0, cron: '' }, NOON)).toEqual({ fire: true, next: null, spawn: null });
    expect(runDue({ delay: 0, period: 100, repeat: 2, cron: '' }, NOON)).toEqual({ fire: true, next: { at: NOON + 100, repeat: 1 }, spawn: null });
    expect(runDue({ delay: 0, period: 100, repeat: -1, cron: '' }, NOON)).toEqual({ fire: true, next: { at: NOON + 100, repeat: -1 }, spawn: null });
    const minute = Date.UTC(2026, 10, 30, 12, 1);
    expect(runDue({ delay: 0, period: 0, repeat: 0, cron: '* * * * *' }, NOON)).toEqual({ fire: true, next: { at: minute, repeat: 0 }, spawn: null });
    expect(runDue({ delay: 50, period: 20, repeat: 3, cron: '* * * * *' }, NOON)).toEqual({ fire: false, next: { at: minute, repeat: 3 }, spawn: { delay: 50, period: 20, repeat: 3, cron: '' } });
  });

  it('know the management destination by its name, case aside, as ActiveMQ', () => {
    expect(isManagementName('ActiveMQ.Scheduler.Management')).toBe(true);
    expect(isManagementName('activemq.scheduler.management')).toBe(true);
    expect(isManagementName('ActiveMQ.Scheduler')).toBe(false);
    expect(isManagementName('ActiveMQ.Scheduler.Management.Browse')).toBe(true);
    expect(isManagementName('x.ActiveMQ.Scheduler.Management')).toBe(false);
    expect(isManagementName('orders')).toBe(false);
  });
});

/**
 * Scheduled delivery with real broker processes and a real client (stomp.py):
 * jobs kept in the store fire once after a kill -9 and restart, and once
 * after a master/slave failover; management through
 * ActiveMQ.Scheduler.Management and through `amq-sim scheduler`.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runCli } from '../helpers/process.js';
import { stompPy } from '../helpers/stomp-py.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Received {
  body: string;
  scheduledJobId: string;
  at: number;
}

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [new URL('../../dist/bin/amq-sim.js', import.meta.url).pathname, ...args], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

async function broker(name: string, store: string, extra: string[] = []) {
  const port = await freePort();
  const p = runCli(['broker', '--name', name, '--stomp', `stomp://127.0.0.1:${port}`, '--store', store, '--scheduler-support', '--log-format', 'json', ...extra]);
  await p.waitForLog(new RegExp(`\\(${name}, .*\\) started$`), 20_000);
  return { p, port };
}

function bodies(messages: Received[]): string[] {
  return messages.map((m) => m.body).sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1]));
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `job ${i}`);

describe('scheduled delivery across process faults (stomp.py)', () => {
  it('keeps jobs in the store across kill -9: each fires once after the restart, not before its time', async () => {
    const store = join(tempDir('sched-restart'), 'kahadb');
    const a = await broker('S1', store);
    const sent = await stompPy(a.port, 'schedule', '/queue/sched', '20', '2500');
    expect(sent.receipts).toBe(20);
    await a.p.kill();
    const b = await broker('S1', store);
    await b.p.waitForLog(/^Job scheduler recovered 20 scheduled jobs$/);
    const got = (await stompPy(b.port, 'consume', '/queue/sched', '1500')).messages as Received[];
    expect(bodies(got)).toEqual(expected(20));
    expect(new Set(got.map((m) => m.scheduledJobId)).size).toBe(20);
    for (const m of got) expect(m.at - (sent.sent_at as number)).toBeGreaterThanOrEqual(2.5 - 0.05);
    // Fired jobs are gone from the store: a second restart fires nothing.
    await b.p.kill();
    const c = await broker('S1', store);
    expect(c.p.logs.some((l) => /recovered .* scheduled jobs/.test(l.msg))).toBe(false);
    expect(((await stompPy(c.port, 'consume', '/queue/sched', '800', '3')).messages as Received[]).length).toBe(0);
  }, 90_000);

  it('fires each job once across a master/slave failover: what fired on the master does not fire again on the slave', async () => {
    const dir = tempDir('sched-failover');
    const store = join(dir, 'kahadb');
    const locker = join(dir, 'locker.json');
    writeFileSync(locker, JSON.stringify({ schedulerSupport: true, locker: { lockAcquireSleepInterval: 500, lockKeepAlivePeriod: 500, lockStaleTimeout: 2000 } }));
    const master = await broker('M', store, ['--config', locker]);
    const slavePort = await freePort();
    const slave = runCli(['broker', '--name', 'SL', '--stomp', `stomp://127.0.0.1:${slavePort}`, '--store', store, '--config', locker, '--log-format', 'json']);
    await slave.waitForLog(/slave mode/);
    // Ten fire on the master and are consumed there; ten more are due after the failover.
    await stompPy(master.port, 'schedule', '/queue/early', '10', '200');
    const early = (await stompPy(master.port, 'consume', '/queue/early', '800')).messages as Received[];
    expect(bodies(early)).toEqual(expected(10));
    await stompPy(master.port, 'schedule', '/queue/late', '10', '3000');
    await master.p.kill();
    await slave.waitForLog(/\(SL, .*\) started$/, 10_000);
    expect(slave.logs.some((l) => l.msg === 'Job scheduler recovered 10 scheduled jobs')).toBe(true);
    const late = (await stompPy(slavePort, 'consume', '/queue/late', '1500')).messages as Received[];
    expect(bodies(late)).toEqual(expected(10));
    expect(((await stompPy(slavePort, 'consume', '/queue/early', '500', '2')).messages as Received[]).length).toBe(0);
  }, 90_000);

  it('repeats with AMQ_SCHEDULED_PERIOD and _REPEAT: repeat + 1 deliveries, a period apart, each with its own message id', async () => {
    const a = await broker('R1', join(tempDir('sched-repeat'), 'kahadb'));
    const r = await stompPy(a.port, 'repeat', '/queue/tick', '300', '3');
    const offsets = r.offsets_ms as number[];
    expect(offsets).toHaveLength(4);
    // Each run is scheduled a period after the one before fired; arrivals can bunch a little when one is held up on the way.
    for (let i = 1; i < 4; i++) expect(offsets[i] - offsets[i - 1]).toBeGreaterThanOrEqual(300 - 100);
    expect(offsets[3] - offsets[0]).toBeGreaterThanOrEqual(3 * 300 - 100);
    expect(offsets[0]).toBeGreaterThanOrEqual(300 - 20);
    expect(new Set(r.message_ids as string[]).size).toBe(4);
    expect(r.job_ids).toHaveLength(1);
  });

  it('browses and removes jobs through ActiveMQ.Scheduler.Management (stomp.py) and through amq-sim scheduler (admin endpoint)', async () => {
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const a = await broker('G1', join(tempDir('sched-manage'), 'kahadb'), ['--admin', admin]);
    const r = await stompPy(a.port, 'manage');
    expect(r.errors).toEqual([]);
    expect((r.browsed as Array<{ body: string; delay: string }>).map((m) => [m.body, m.delay])).toEqual([
      ['later 0', '3600000'],
      ['later 1', '7200000'],
      ['later 2', '10800000'],
    ]);
    expect(r.after_remove).toEqual(['later 1', 'later 2']);
    expect(r.after_remove_all).toEqual([]);

    await stompPy(a.port, 'schedule', '/queue/cli', '3', '3600000');
    const listing = await cli(['scheduler', 'browse', '--admin', admin]);
    expect(listing).toMatch(/3 scheduled jobs/);
    expect(listing).toContain('/queue/cli');
    expect(await cli(['status', '--admin', admin])).toMatch(/^scheduler: 3 jobs waiting, next run 20\d\d-/m);
    const jobs = JSON.parse(await cli(['scheduler', 'browse', '--admin', admin, '--json'])) as { jobs: Array<{ jobId: string; delay: number; message: { body: string } }> };
    expect(jobs.jobs.map((j) => [j.message.body, j.delay])).toEqual([
      ['job 0', 3600000],
      ['job 1', 3600000],
      ['job 2', 3600000],
    ]);
    expect(await cli(['scheduler', 'remove', jobs.jobs[1].jobId, '--admin', admin])).toBe(`Removed scheduled job ${jobs.jobs[1].jobId}\n`);
    const soon = Date.now();
    expect(await cli(['scheduler', 'remove-all', '--start', String(soon), '--end', String(soon + 10_000), '--admin', admin])).toBe('Removed 0 scheduled jobs\n');
    expect(await cli(['scheduler', 'remove-all', '--admin', admin])).toBe('Removed 2 scheduled jobs\n');
    expect(await cli(['scheduler', 'browse', '--admin', admin])).toMatch(/^0 scheduled jobs/m);
  });
});

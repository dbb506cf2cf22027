/**
 * `amq-sim front-door` in front of a master/slave pair of broker processes:
 * readiness from each broker's /health?role=master, and a one-address client
 * across kill -9 of the master.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/index.js';
import { eventually, sleep } from '../helpers/broker.js';
import { freePort, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

async function pairBroker(name: string, store: string, config: string) {
  const [stomp, admin] = [await freePort(), await freePort()];
  const p = runCli(['broker', '--name', name, '--stomp', `stomp://127.0.0.1:${stomp}`, '--admin', `http://127.0.0.1:${admin}`, '--store', store, '--config', config, '--log-format', 'json']);
  return { p, stomp, admin, target: `stomp://127.0.0.1:${stomp}?admin=${admin}` };
}

describe('amq-sim front-door', () => {
  it('forwards to the broker whose /health?role=master says it serves, and to the new master after kill -9', async () => {
    const dir = tempDir('front-door');
    const config = join(dir, 'locker.json');
    writeFileSync(config, JSON.stringify({ locker: { lockAcquireSleepInterval: 500, lockKeepAlivePeriod: 500, lockStaleTimeout: 2000 } }));
    const store = join(dir, 'kahadb');
    const a = await pairBroker('A', store, config);
    await a.p.waitForLog(/\(A, .*\) started$/);
    const b = await pairBroker('B', store, config);
    await b.p.waitForLog(/slave mode/);
    await eventually(async () => (await fetch(`http://127.0.0.1:${b.admin}/health`).catch(() => null))?.status === 200, 5000, "the slave's admin endpoint");
    expect((await fetch(`http://127.0.0.1:${b.admin}/health?role=master`)).status).toBe(503);
    expect((await fetch(`http://127.0.0.1:${a.admin}/health?role=master`)).status).toBe(200);

    const port = await freePort();
    const door = runCli(['front-door', '--port', String(port), '--target', a.target, '--target', b.target, '--poll-ms', '200', '--log-format', 'json']);
    await door.waitForLog(/^Front door listening at stomp:\/\/127\.0\.0\.1:/);
    await door.waitForLog(new RegExp(`^Front door forwards to 127\\.0\\.0\\.1:${a.stomp}, the master now$`));
    const before = await StompClient.connect(`stomp://127.0.0.1:${port}`);
    for (let i = 0; i < 20; i++) await before.sendWithReceipt('/queue/door', `m${i}`, { persistent: 'true' });
    const killedAt = Date.now();
    await a.p.kill();
    let after: StompClient | null = null;
    while (!after) after = await StompClient.connect(`stomp://127.0.0.1:${port}`, { connectTimeout: 1000 }).catch(() => sleep(100).then(() => null));
    process.stderr.write(`amq-sim front-door: kill -9 of the master → CONNECTED on the new master in ${((Date.now() - killedAt) / 1000).toFixed(2)} s (lock poll 500 ms, health poll 200 ms)\n`);
    expect(door.logs.some((l) => l.msg === `Front door forwards to 127.0.0.1:${b.stomp}, the master now`)).toBe(true);
    const got: string[] = [];
    await after.subscribe('/queue/door', (m) => got.push(m.text));
    await eventually(() => got.length === 20, 10_000, 'the 20 stored messages through the front door');
    before.destroy();
    after.destroy();
  }, 60_000);
});

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, runCli } from '../helpers/process.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('the command line, as a new user meets it', () => {
  it('runs as the README says, `npx amq-sim` in the project folder after `npm ci` (the built bin is executable)', async () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string };
    const out = await new Promise<string>((resolve, reject) =>
      execFile('npx', ['--no-install', 'amq-sim', '--version'], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(out.trim()).toBe(version);
  });

  it('refuses a number option that is not a number with exit 2, quoting what was given', async () => {
    const p = runCli(['cluster', 'network', '--base-port', 'abc']);
    expect(await p.waitExit()).toBe(2);
    expect(p.stderr).toMatch(/--base-port must be a whole number between 1 and 65535, not 'abc'/);
    const q = runCli(['cluster', 'network', '--base-port', '65534']);
    expect(await q.waitExit()).toBe(2);
    expect(q.stderr).toContain('--base-port 65534 leaves no room for 3 brokers');
  });

  it('prints --help examples whole, never broken across lines', async () => {
    const p = runCli(['produce', '--help']);
    expect(await p.waitExit()).toBe(0);
    expect(p.stdoutText.some((l) => l.includes("amq-sim produce --url 'failover:(stomp://127.0.0.1:61611,stomp://127.0.0.1:61612)' --rate 100 --count 0"))).toBe(true);
  });

  it('tells the user why status finds nothing: no admin endpoint there', async () => {
    const port = await freePort();
    const p = runCli(['status', '--admin', `http://127.0.0.1:${port}`]);
    expect(await p.waitExit()).toBe(1);
    expect(p.stderr).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:\d+\/api\/status: .*ECONNREFUSED.*started with --admin/);
  });

  it('logs numbers without float noise and no journal position for a new store', async () => {
    const p = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--store', `${process.env.AMQ_SIM_TEST_DIR}/usage-${process.pid}-${Date.now()}`, '--log-format', 'json']);
    const recovered = await p.waitForLog(/^Recovery replayed/);
    expect(String(recovered.seconds)).toMatch(/^\d+(\.\d{1,3})?$/);
    expect(p.logs.some((l) => /^Recovering from the journal/.test(l.msg))).toBe(false);
    expect(p.logs.some((l) => /^Creating a new journal in /.test(l.msg))).toBe(true);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toBe(0);
  });
});

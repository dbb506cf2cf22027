import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/security/password.js';
import { CLI, freePort, runCli } from '../helpers/process.js';

describe('amq-sim broker --admin with credentials', () => {
  it('refuses an admin endpoint beyond loopback without credentials, with exit 2 and what to set', async () => {
    const p = runCli(['broker', '--no-persistent', '--stomp', 'stomp://127.0.0.1:0', '--admin', `http://0.0.0.0:${await freePort()}`]);
    expect(await p.waitExit(5000)).toBe(2);
    expect(p.stderr).toContain('reachable from other hosts: set adminUser and adminPassword');
  });

  it('takes them from AMQ_SIM_ADMIN_USER / AMQ_SIM_ADMIN_PASSWORD; amq-sim status logs in from the URL or the same variables', async () => {
    const admin = await freePort();
    const broker = runCli(['broker', '--no-persistent', '--stomp', 'stomp://127.0.0.1:0', '--admin', `http://0.0.0.0:${admin}`, '--log-format', 'json'], {
      AMQ_SIM_ADMIN_USER: 'operator',
      AMQ_SIM_ADMIN_PASSWORD: 'p@ss:word',
    });
    await broker.port();
    const refused = runCli(['status', '--admin', `http://127.0.0.1:${admin}`]);
    expect(await refused.waitExit()).not.toBe(0);
    expect(refused.stderr).toContain('credentials required');
    const fromUrl = runCli(['status', '--admin', `http://operator:${encodeURIComponent('p@ss:word')}@127.0.0.1:${admin}`]);
    expect(await fromUrl.waitExit()).toBe(0);
    expect(fromUrl.stdoutText.join('\n')).toMatch(/master, up/);
    const fromEnv = runCli(['status', '--admin', `http://127.0.0.1:${admin}`, '--json'], { AMQ_SIM_ADMIN_USER: 'operator', AMQ_SIM_ADMIN_PASSWORD: 'p@ss:word' });
    expect(await fromEnv.waitExit()).toBe(0);
    expect(JSON.parse(fromEnv.stdoutText.join('\n')).role).toBe('master');
    broker.signal('SIGTERM');
    expect(await broker.waitExit()).toBe(0);
  });
});

describe('amq-sim hash-password', () => {
  it('prints a hash of the password on standard input that the broker takes in its place, and refuses an empty one', async () => {
    const hash = execFileSync(process.execPath, [CLI, 'hash-password'], { input: 'correct horse\n' }).toString().trim();
    expect(hash).toMatch(/^scrypt:[\w+/=]+:[\w+/=]+$/);
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse\n')).toBe(false);
    const empty = spawnSync(process.execPath, [CLI, 'hash-password'], { input: '' });
    expect(empty.status).toBe(2);
  });
});

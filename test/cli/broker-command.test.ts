import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectClient, eventually } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('amq-sim broker', () => {
  it('documents every flag in --help', async () => {
    const p = runCli(['broker', '--help']);
    expect(await p.waitExit()).toBe(0);
    const help = p.stdoutText.join('\n');
    for (const flag of ['--name', '--stomp', '--store', '--persistent', '--config', '--log-level', '--log-format']) expect(help).toContain(flag);
  });

  it('starts with ActiveMQ-like log lines, serves STOMP and stops cleanly on SIGTERM', async () => {
    const p = runCli(['broker', '--name', 'b1', '--stomp', 'stomp://127.0.0.1:0', '--no-persistent', '--log-format', 'json']);
    const port = await p.port();
    const starting = await p.waitForLog(/^amq-sim .* \(b1, ID:.*\) is starting$/);
    const started = await p.waitForLog(/^amq-sim .* \(b1, ID:.*\) started$/);
    expect(starting.broker).toBe('b1');
    expect(started.time).toBeGreaterThanOrEqual(starting.time);
    const c = await connectClient(port);
    const got: string[] = [];
    await c.subscribe('/queue/cli', (m) => got.push(m.text));
    await c.sendWithReceipt('/queue/cli', 'hi');
    await eventually(() => got.length === 1);
    p.signal('SIGTERM');
    expect(await p.waitExit()).toBe(0);
    expect(p.logs.some((l) => /is shutdown$/.test(l.msg))).toBe(true);
  });

  it('stops cleanly on SIGINT', async () => {
    const p = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--no-persistent']);
    await p.port();
    p.signal('SIGINT');
    expect(await p.waitExit()).toBe(0);
  });

  it('reads a YAML config file, with flags taking precedence', async () => {
    const dir = tempDir('cfg');
    const file = join(dir, 'broker.yaml');
    writeFileSync(file, 'brokerName: from-file\npersistent: false\ntransportConnectors:\n  - stomp://127.0.0.1:0\npolicy:\n  queuePrefetch: 5\n');
    const p = runCli(['broker', '--config', file, '--name', 'from-flag']);
    await p.port();
    await p.waitForLog(/\(from-flag, ID:.*\) started$/);
  });

  it('refuses a bad config with a message naming the problem and exit code 2', async () => {
    const dir = tempDir('cfg');
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ policy: { queuePrefetch: 'lots' } }));
    const p = runCli(['broker', '--config', file, '--no-persistent']);
    expect(await p.waitExit()).toBe(2);
    // Plain words on stderr, not a JSON log line, whatever the log format.
    expect(p.stderr).toMatch(/^amq-sim broker: Failed to start broker: 'policy\.queuePrefetch' must be a number, not "lots"\n$/);
    const q = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0?bogus=1', '--no-persistent']);
    expect(await q.waitExit()).not.toBe(0);
    expect(q.stderr).toContain('Invalid connect parameters: {bogus=1}');
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/client.js';
import { freePort, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('amq-sim broker at its limits', () => {
  it.each([
    ['under /proc', () => '/proc/amq-sim-no-such-store'],
    ['a regular file', () => {
      const file = join(tempDir('limits'), 'a-file');
      writeFileSync(file, 'not a directory');
      return file;
    }],
    ['below a regular file', () => {
      const file = join(tempDir('limits'), 'a-file');
      writeFileSync(file, 'not a directory');
      return join(file, 'store');
    }],
  ])('refuses a store directory %s with exit 2 and the reason, at once', async (_, path) => {
    const store = path();
    const started = Date.now();
    const p = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--store', store, '--log-format', 'json']);
    expect(await p.waitExit(5000)).toBe(2);
    expect(p.stderr).toContain(`Store directory ${store} cannot be used:`);
    // A measurement for the record (the bound is the "within a second", with room for a loaded machine).
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses a size it cannot read with exit 2, quoting it', async () => {
    const p = runCli(['broker', '--memory-limit', 'lots']);
    expect(await p.waitExit()).toBe(2);
    expect(p.stderr).toContain("--memory-limit must be a size such as 64mb or 1gb, not 'lots'");
  });

  it('takes --memory-limit, --store-limit and --temp-limit as ActiveMQ sizes and shows usage in amq-sim status', async () => {
    const admin = await freePort();
    const broker = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--store', tempDir('limits'), '--admin', `http://127.0.0.1:${admin}`, '--memory-limit', '64mb', '--store-limit', '1 gb', '--temp-limit', '2GB', '--log-format', 'json']);
    const port = await broker.port();
    const c = await StompClient.connect(`stomp://127.0.0.1:${port}`);
    for (let i = 0; i < 10; i++) await c.sendWithReceipt('/queue/shown', 'x'.repeat(1000));
    await c.disconnect();
    const status = runCli(['status', '--admin', `http://127.0.0.1:${admin}`]);
    expect(await status.waitExit()).toBe(0);
    const text = status.stdoutText.join('\n');
    expect(text).toMatch(/memory\s+\S+ \S+\s+64\.0 MiB\s+\d+%/);
    expect(text).toMatch(/store\s+\S+ \S+\s+(1\.0 GiB|\d+\.\d MiB)\s+\d+%/);
    expect(text).toMatch(/temp\s+\S+ \S+\s+2\.0 GiB\s+0%/);
    expect(text).toMatch(/shown\s+10\s+0\s+0\s+10\s+0/);
    broker.signal('SIGTERM');
    expect(await broker.waitExit()).toBe(0);
  });
});

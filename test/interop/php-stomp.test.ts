import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../helpers/broker.js';

describe("PHP's pecl stomp extension (Debian php-stomp)", () => {
  it('subscribes with its receipt to a queue that holds messages, acks them, and runs a transaction', async () => {
    const broker = await startBroker();
    const script = new URL('./fixtures/php_subscribe.php', import.meta.url).pathname;
    const out = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/php', [script, String(broker.port())], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ errors: [], bodies: ['php 0', 'php 1', 'php 2', 'in tx'] });
    expect(broker.router.queues.get('queue://php')!.stats.dequeued).toBe(4);
  });
});

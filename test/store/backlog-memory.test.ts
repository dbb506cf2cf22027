/**
 * A backlog far larger than the memory limit, in a real broker process whose
 * RSS is sampled from /proc: memory stays bounded while it is written and
 * while it is drained, and every message is delivered once.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/client.js';
import { eventually } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const MB = 1024 * 1024;

describe('a backlog larger than memory', () => {
  it('keeps the broker RSS bounded while 150 MB of persistent messages pile up and drain, delivering each once', async () => {
    const broker = runCli(['broker', '--stomp', 'stomp://127.0.0.1:0', '--store', tempDir('backlog'), '--memory-limit', '16mb', '--journal-disk-sync-strategy', 'never', '--log-format', 'json']);
    const port = await broker.port();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(broker.pid))), 100);
    try {
      const p = await StompClient.connect(`stomp://127.0.0.1:${port}`);
      const total = 150_000;
      const pad = 'x'.repeat(1024);
      for (let i = 0; i < total; i++) {
        if (i % 1000 === 999) await p.sendWithReceipt('/queue/backlog', `${i}:${pad}`, { persistent: 'true' });
        else p.send('/queue/backlog', `${i}:${pad}`, { persistent: 'true' });
      }
      await p.sendWithReceipt('/queue/backlog', `${total}:end`, { persistent: 'true' });
      const peakWhileWriting = peak;
      const c = await StompClient.connect(`stomp://127.0.0.1:${port}`);
      let next = 0;
      let outOfOrder = 0;
      await c.subscribe('/queue/backlog', (m) => {
        if (Number(m.text.slice(0, m.text.indexOf(':'))) !== next) outOfOrder++;
        next++;
      });
      await eventually(() => next === total + 1, 120_000, 'the backlog drained');
      expect(outOfOrder).toBe(0);
      // 150 MB went through; the broker holds 16 MB of messages at most, its index (8 bytes each) and Node itself.
      expect(peakWhileWriting).toBeLessThan(200 * MB);
      expect(peak).toBeLessThan(200 * MB);
      await p.disconnect();
      await c.disconnect();
    } finally {
      clearInterval(sampler);
      broker.signal('SIGTERM');
      await broker.waitExit();
    }
  });
});

import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/index.js';
import { CLI, CliProcess } from '../helpers/process.js';
import { spawn } from 'node:child_process';
import { eventually } from '../helpers/broker.js';

describe('at the open-file limit', () => {
  it('refuses new connections with an ERROR frame and keeps serving the connections it has', async () => {
    const broker = new CliProcess(
      spawn('/bin/sh', ['-c', `ulimit -n 150 && exec "${process.execPath}" "${CLI}" broker --stomp stomp://127.0.0.1:0 --no-persistent --log-format json`], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    try {
      const port = await broker.port();
      const consumer = await StompClient.connect(`stomp://127.0.0.1:${port}`);
      const producer = await StompClient.connect(`stomp://127.0.0.1:${port}`);
      const held: net.Socket[] = [];
      const refusals: string[] = [];
      for (let i = 0; i < 200 && refusals.length < 5; i++) {
        const reply = await new Promise<string>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => s.write('CONNECT\naccept-version:1.2\n\n\0'));
          s.setEncoding('latin1');
          s.on('data', (d: string) => resolve(d));
          s.on('error', () => resolve('socket error'));
          s.on('close', () => resolve('closed'));
          held.push(s);
        });
        if (!reply.startsWith('CONNECTED')) refusals.push(reply);
      }
      expect(refusals.length).toBe(5);
      for (const r of refusals) expect(r).toMatch(/^ERROR\n(.*\n)*message:Too many open files/);
      const got: string[] = [];
      await consumer.subscribe('/queue/still-here', (m) => got.push(m.text));
      await producer.sendWithReceipt('/queue/still-here', 'served');
      await eventually(() => got.length === 1);
      for (const s of held) s.destroy();
      consumer.destroy();
      producer.destroy();
      expect(broker.running).toBe(true);
    } finally {
      await broker.kill();
    }
  });
});

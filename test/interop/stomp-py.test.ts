import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectClient, startBroker } from '../helpers/broker.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./fixtures/stomp_py_client.py', import.meta.url).pathname;

export function runStompPy(port: number, scenario: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, String(port), scenario], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`stomp.py failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('stomp.py (Debian python3-stomp)', () => {
  it('is installed (.ci/run installs python3-stomp)', () => {
    expect(existsSync(PYTHON)).toBe(true);
  });

  it('sends with receipts, consumes with client-individual acks, runs a transaction and heart-beats', async () => {
    const broker = await startBroker();
    const result = await runStompPy(broker.port(), 'basic');
    expect(result.errors).toEqual([]);
    expect(result.before_commit).toBe(10);
    expect(result.bodies).toEqual([...Array.from({ length: 10 }, (_, i) => `py ${i}`), 'in tx']);
    expect(result.receipts).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
    expect(result.connected_after_heartbeats).toBe(true);
    expect(broker.router.queues.get('queue://py')!.stats.dequeued).toBe(11);
  });

  it('uses selectors, sees a NACKed message in ActiveMQ.DLQ, and gets a reply on a temporary queue named in reply-to', async () => {
    const broker = await startBroker();
    const responder = await connectClient(broker);
    await responder.subscribe('/queue/requests', (m) => responder.send(m.headers['reply-to'], `pong to ${m.text}`));
    const result = await runStompPy(broker.port(), 'selector_dlq_replyto');
    expect(result.errors).toEqual([]);
    expect(result.selected).toEqual(['red-10', 'red-6']);
    expect(result.dlq).toBe('bad');
    expect(result.dlq_origin).toBe('/queue/poison');
    expect(result.reply).toBe('pong to ping');
    expect(result.reply_destination).toBe('/temp-queue/replies');
  });
});

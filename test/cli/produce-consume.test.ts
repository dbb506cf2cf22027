import { describe, expect, it } from 'vitest';
import { connectClient, startBroker } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';

/** Runs a tool to its end; returns its exit code, stdout lines and stderr. */
async function tool(args: string[]) {
  const p = runCli(args);
  const code = await p.waitExit(30_000);
  return { code, out: p.stdoutText, err: p.stderr, last: p.stdoutText.at(-1) ?? '' };
}

const FINAL_PRODUCED = /^Produced (\d+) messages to (\S+) in [\d.]+ s \(\d+ msg\/s\), (\d+) errors/;
const FINAL_CONSUMED = /^Consumed (\d+) messages from (\S+) in [\d.]+ s \(\d+ msg\/s\), (\d+) duplicates, (\d+) redelivered, (\d+) errors$/;

describe('amq-sim produce and consume', () => {
  it('sends sized persistent messages with receipts and receives them all, printing bodies', async () => {
    const broker = await startBroker();
    const url = `stomp://127.0.0.1:${broker.port()}`;
    const p = await tool(['produce', '--url', url, '--destination', 'queue://orders', '--count', '150', '--size', '64', '--header', 'type=order']);
    expect(p.code).toBe(0);
    expect(p.last).toMatch(FINAL_PRODUCED);
    expect(FINAL_PRODUCED.exec(p.last)!.slice(1)).toEqual(['150', '/queue/orders', '0']);
    const c = await tool(['consume', '--url', url, '--destination', '/queue/orders', '--count', '150', '--print', '--selector', "type = 'order'"]);
    expect(c.code).toBe(0);
    expect(FINAL_CONSUMED.exec(c.last)!.slice(1)).toEqual(['150', '/queue/orders', '0', '0', '0']);
    const bodies = c.out.slice(0, -1);
    expect(bodies).toHaveLength(150);
    expect(bodies.every((b) => b.length === 64)).toBe(true);
    expect(new Set(bodies.map((b) => /^test message: (\d+)/.exec(b)![1])).size).toBe(150);
  });

  it('commits in transaction batches, and leaves what it did not consume on the queue', async () => {
    const broker = await startBroker();
    const url = `stomp://127.0.0.1:${broker.port()}`;
    const p = await tool(['produce', '--url', url, '--destination', '/queue/tx', '--count', '35', '--transaction-batch-size', '10']);
    expect(FINAL_PRODUCED.exec(p.last)!.slice(1)).toEqual(['35', '/queue/tx', '0']);
    const c = await tool(['consume', '--url', url, '--destination', '/queue/tx', '--count', '25', '--transaction-batch-size', '10']);
    expect(FINAL_CONSUMED.exec(c.last)![1]).toBe('25');
    // The 25 acks were committed (two full batches, and the last 5 at the end); the other 10 went back to the queue.
    const client = await connectClient(broker);
    const left: string[] = [];
    await client.subscribe('/queue/tx', (m) => left.push(m.text));
    await new Promise((r) => setTimeout(r, 300));
    expect(left).toHaveLength(10);
  });

  it('stops after --idle-timeout seconds without a message', async () => {
    const broker = await startBroker();
    const url = `stomp://127.0.0.1:${broker.port()}`;
    await tool(['produce', '--url', url, '--destination', '/queue/idle', '--count', '7', '--no-persistent']);
    const c = await tool(['consume', '--url', url, '--destination', '/queue/idle', '--count', '0', '--idle-timeout', '0.5', '--ack', 'auto']);
    expect(c.code).toBe(0);
    expect(FINAL_CONSUMED.exec(c.last)![1]).toBe('7');
  });

  it('says what is wrong with a URL it cannot reach or options it cannot use', async () => {
    const refused = await tool(['produce', '--url', 'stomp://127.0.0.1:1', '--count', '1']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^amq-sim: Cannot connect to stomp:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    const scheme = await tool(['consume', '--url', 'amqp://127.0.0.1:1']);
    expect(scheme.err).toMatch(/Cannot connect to amqp:\/\/127.0.0.1:1: .*unsupported scheme 'amqp'/);
    const count = await tool(['produce', '--count', 'many']);
    expect(count.code).toBe(2);
    expect(count.err).toMatch(/--count must be a whole number ≥ 0, not 'many'/);
    const durable = await tool(['consume', '--durable', 'sub1']);
    expect(durable.err).toMatch(/--durable needs --client-id/);
  });
});

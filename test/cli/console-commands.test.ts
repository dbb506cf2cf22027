import { describe, expect, it } from 'vitest';
import { connectClient, startBroker } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';

describe('amq-sim dstat, browse, why and purge', () => {
  it('show destinations and messages of a running broker and purge a queue, as ActiveMQ\'s tools do', async () => {
    const b = await startBroker({ admin: 'http://127.0.0.1:0' });
    const admin = `http://127.0.0.1:${b.adminPort}`;
    const c = await connectClient(b);
    for (let i = 0; i < 3; i++) await c.sendWithReceipt('/queue/orders', `order ${i}`, { region: 'eu' });
    await c.subscribe('/topic/prices', () => {});

    const dstat = runCli(['dstat', '--admin', admin]);
    expect(await dstat.waitExit()).toBe(0);
    const table = dstat.stdoutText.join('\n');
    expect(table).toMatch(/^Name\s+Queue Size\s+Consumer #\s+Enqueue #\s+Dequeue #\s+Memory$/m);
    expect(table).toMatch(/^orders\s+3\s+0\s+3\s+0\s+\S+/m);
    expect(table).toMatch(/^topic:\/\/prices\s+-\s+1\s+0/m);

    const browse = runCli(['browse', '--admin', admin, '--destination', 'queue://orders', '--max', '2']);
    expect(await browse.waitExit()).toBe(0);
    expect(browse.stdoutText.filter((l) => l.startsWith('ID:'))).toHaveLength(2);
    expect(browse.stdoutText.join('\n')).toMatch(/region=eu\n {2}order 0\n/);
    expect(browse.stdoutText.at(-1)).toBe('2 messages');

    const why = runCli(['why', '--admin', admin, '--destination', 'queue://orders']);
    expect(await why.waitExit()).toBe(0);
    expect(why.stdoutText).toEqual(['queue://orders: 3 pending, 0 local and 0 network consumers', '- 3 messages wait on orders and nobody wants them: no consumer on localhost, and no other broker has asked for orders over a bridge.']);

    const purge = runCli(['purge', '--admin', admin, '--destination', 'orders']);
    expect(await purge.waitExit()).toBe(0);
    expect(purge.stdoutText).toEqual(['Purged 3 messages from orders']);
    expect(b.router.queues.get('queue://orders')!.size).toBe(0);

    const missing = runCli(['purge', '--admin', admin, '--destination', 'nowhere']);
    expect(await missing.waitExit()).not.toBe(0);
    expect(missing.stderr).toContain('No queue nowhere');
  });
});

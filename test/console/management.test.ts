/**
 * The operations behind the console and `amq-sim browse/purge/dstat`,
 * through the admin endpoint as the console's page calls them, and
 * `/metrics` as Prometheus scrapes it.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import type { ReceivedMessage } from '../../src/client/index.js';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';

async function adminBroker(): Promise<Broker> {
  return startBroker({ admin: 'http://127.0.0.1:0' });
}

async function op(b: Broker, action: string, args: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${b.adminPort}/api/broker/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function fill(b: Broker, queue: string, count: number): Promise<void> {
  const c = await connectClient(b);
  for (let i = 0; i < count; i++) await c.sendWithReceipt(`/queue/${queue}`, `m${i}`, { persistent: i % 2 === 0 ? 'true' : 'false', 'x-order': String(i) });
}

describe('broker operations', () => {
  it('browses a queue without taking anything, with headers and bodies (binary ones as base64)', async () => {
    const b = await adminBroker();
    await fill(b, 'orders', 3);
    const c = await connectClient(b);
    await c.sendWithReceipt('/queue/orders', Buffer.from([0xff, 0x00, 0xfe]));
    const r = await op(b, 'browse', { queue: 'queue://orders' });
    const messages = r.body.messages as Array<{ body: string; encoding: string; headers: Record<string, string>; persistent: boolean }>;
    expect(messages.map((m) => m.body)).toEqual(['m0', 'm1', 'm2', Buffer.from([0xff, 0x00, 0xfe]).toString('base64')]);
    expect(messages[3].encoding).toBe('base64');
    expect(messages[1]).toMatchObject({ persistent: false, headers: { 'x-order': '1' } });
    expect(b.router.queues.get('queue://orders')!.size).toBe(4);
    expect((await op(b, 'browse', { queue: 'orders', max: '2' })).body.messages).toHaveLength(2);
    expect((await op(b, 'browse', { queue: 'nowhere' })).status).toBe(404);
    expect((await op(b, 'browse', { queue: 'orders', max: '100000' })).status).toBe(400);
  });

  it('sends, moves, copies and removes single messages, purges and deletes queues', async () => {
    const b = await adminBroker();
    await fill(b, 'orders', 4);
    const ids = ((await op(b, 'browse', { queue: 'orders' })).body.messages as Array<{ messageId: string }>).map((m) => m.messageId);
    expect((await op(b, 'move', { queue: 'orders', messageId: ids[0], to: 'queue://later' })).status).toBe(200);
    expect((await op(b, 'copy', { queue: 'orders', messageId: ids[1], to: 'later' })).status).toBe(200);
    expect((await op(b, 'remove-message', { queue: 'orders', messageId: ids[2] })).status).toBe(200);
    expect((await op(b, 'remove-message', { queue: 'orders', messageId: ids[2] })).status).toBe(404);
    const sent = await op(b, 'send', { destination: 'queue://later', body: 'typed in the console', headers: JSON.stringify({ 'x-from': 'console' }), persistent: 'true' });
    expect(sent.status).toBe(200);

    const later: ReceivedMessage[] = [];
    const c = await connectClient(b);
    await c.subscribe('/queue/later', (m) => later.push(m));
    await eventually(() => later.length === 3, 3000, 'the moved, copied and sent messages');
    expect(later.map((m) => m.text)).toEqual(['m0', 'm1', 'typed in the console']);
    expect(later[0].messageId).toBe(ids[0]);
    expect(later[2].headers['x-from']).toBe('console');
    expect(b.router.queues.get('queue://orders')!.size).toBe(2);

    expect((await op(b, 'purge', { queue: 'orders' })).body).toEqual({ purged: 2 });
    expect((await op(b, 'delete', { queue: 'orders' })).status).toBe(200);
    expect(b.router.queues.has('queue://orders')).toBe(false);
    expect((await op(b, 'send', { destination: 'queue://x', headers: '[1]' })).status).toBe(400);
    expect((await op(b, 'frobnicate')).status).toBe(404);
  });

  it('lists connections and closes one', async () => {
    const b = await adminBroker();
    const victim = await connectClient(b, { connectHeaders: { 'client-id': 'victim-app' } });
    const closed = new Promise<void>((resolve) => victim.once('disconnected', () => resolve()).once('closed', () => resolve()));
    const list = (await op(b, 'connections')).body.connections as Array<{ connectionId: string; clientId?: string; remoteAddress: string }>;
    const target = list.find((c) => c.clientId === 'victim-app')!;
    expect(target.remoteAddress).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect((await op(b, 'close-connection', { connectionId: target.connectionId })).status).toBe(200);
    await closed;
    await eventually(async () => !((await op(b, 'connections')).body.connections as Array<{ clientId?: string }>).some((c) => c.clientId === 'victim-app'), 3000, 'the connection gone');
  });
});

describe('the console and /metrics', () => {
  it('serves the console page and its files from the admin port, framing refused', async () => {
    const b = await adminBroker();
    const page = await fetch(`http://127.0.0.1:${b.adminPort}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await page.text()).toContain('<script type="module" src="/console/broker.js">');
    expect((await fetch(`http://127.0.0.1:${b.adminPort}/console/broker.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`http://127.0.0.1:${b.adminPort}/console/../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${b.adminPort}/api/status`, { method: 'DELETE' })).status).toBe(405);
  });

  it('exposes queue, usage and connection gauges named after ActiveMQ\'s JMX attributes', async () => {
    const b = await adminBroker();
    await fill(b, 'orders', 3);
    const c = await connectClient(b);
    await c.subscribe('/topic/prices', () => {});
    const res = await fetch(`http://127.0.0.1:${b.adminPort}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('amq_sim_queue_size{destination="orders"} 3');
    expect(text).toContain('amq_sim_enqueue_count{destination="orders",type="queue"} 3');
    expect(text).toContain('amq_sim_consumer_count{destination="prices",type="topic"} 1');
    expect(text).toMatch(/^amq_sim_current_connections_count 2$/m);
    expect(text).toMatch(/^amq_sim_memory_percent_usage \d+$/m);
    expect(text).toContain('amq_sim_broker_info{broker="localhost",role="master"');
    expect(text).toContain('# HELP amq_sim_queue_size Messages pending on a queue');
  });
});

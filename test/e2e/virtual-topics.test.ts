/**
 * Virtual topics with real broker processes and a real client (stomp.py):
 * a producer on the hub, application A's consumers on two edges and
 * application B's on one; each application gets each message once.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/broker.js';
import { freePort, runCli } from '../helpers/process.js';
import { stompPy } from '../helpers/stomp-py.js';
import { tempDir } from '../helpers/temp-dir.js';

async function broker(name: string, dir: string, extra: string[]) {
  const port = await freePort();
  const p = runCli(['broker', '--name', name, '--stomp', `stomp://127.0.0.1:${port}`, '--store', join(dir, name), '--log-format', 'json', ...extra]);
  await p.waitForLog(new RegExp(`\\(${name}, .*\\) started$`), 20_000);
  return { p, port };
}

describe('virtual topics across broker processes (stomp.py)', () => {
  it("with a custom prefix and postfix, keep an application's persistent messages in its queue while it is away, across kill -9", async () => {
    const dir = tempDir('vt-custom');
    const config = join(dir, 'broker.json');
    writeFileSync(config, JSON.stringify({ virtualTopics: [{ name: 'Events.>', prefix: 'App.*.', postfix: '.in', selectorAware: false, local: false }] }));
    const first = await broker('vt', dir, ['--config', config]);
    // The application's queue exists once its consumer has been there; then it goes away.
    await stompPy(first.port, 'consume', '/queue/App.Billing.Events.Orders.in', '300', '1');
    expect((await stompPy(first.port, 'publish', '/topic/Events.Orders', '20')).receipts).toBe(20);
    await first.p.kill();
    const again = await broker('vt', dir, ['--config', config]);
    const got = ((await stompPy(again.port, 'consume', '/queue/App.Billing.Events.Orders.in', '1000')).messages as Array<{ body: string }>).map((m) => m.body);
    expect(got.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `order ${i}`).sort());
    // The default VirtualTopic.> is replaced: a Consumer.* queue gets nothing of a VirtualTopic topic now.
    await stompPy(again.port, 'consume', '/queue/Consumer.A.VirtualTopic.Orders', '300', '1');
    await stompPy(again.port, 'publish', '/topic/VirtualTopic.Orders', '5');
    expect(((await stompPy(again.port, 'consume', '/queue/Consumer.A.VirtualTopic.Orders', '500', '2')).messages as unknown[]).length).toBe(0);
  }, 90_000);

  it('gives each application each message once, load-balanced across edges', async () => {
    const dir = tempDir('vt-e2e');
    const adminPort = await freePort();
    const hub = await broker('hub', dir, ['--admin', `http://127.0.0.1:${adminPort}`]);
    const network = ['--network', `static:(stomp://127.0.0.1:${hub.port})?duplex=true`];
    const edge1 = await broker('edge1', dir, network);
    const edge2 = await broker('edge2', dir, network);
    const a1 = stompPy(edge1.port, 'consume', '/queue/Consumer.A.VirtualTopic.Orders', '1500');
    const a2 = stompPy(edge2.port, 'consume', '/queue/Consumer.A.VirtualTopic.Orders', '1500');
    const b = stompPy(edge2.port, 'consume', '/queue/Consumer.B.VirtualTopic.Orders', '1500');
    await eventually(
      async () => {
        const status = (await (await fetch(`http://127.0.0.1:${adminPort}/api/status`)).json()) as { queues: Array<{ name: string; consumers: number }> };
        const consumers = (app: string) => status.queues.find((q) => q.name === `Consumer.${app}.VirtualTopic.Orders`)?.consumers ?? 0;
        return consumers('A') >= 2 && consumers('B') >= 1;
      },
      8000,
      "the edges' demand on the hub",
    );
    expect((await stompPy(hub.port, 'publish', '/topic/VirtualTopic.Orders', '60')).receipts).toBe(60);
    const bodies = async (run: Promise<Record<string, unknown>>) => ((await run).messages as Array<{ body: string }>).map((m) => m.body);
    const [gotA1, gotA2, gotB] = await Promise.all([bodies(a1), bodies(a2), bodies(b)]);
    const all = Array.from({ length: 60 }, (_, i) => `order ${i}`).sort();
    expect([...gotA1, ...gotA2].sort()).toEqual(all);
    expect(gotA1.length).toBeGreaterThan(0);
    expect(gotA2.length).toBeGreaterThan(0);
    expect([...gotB].sort()).toEqual(all);
  }, 90_000);
});

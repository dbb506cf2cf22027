/**
 * The console in a real browser (Debian's Chromium, driven by
 * playwright-core) against real broker processes: its pages show live data,
 * and what is clicked happens on the broker.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, chromium, type Page } from 'playwright-core';
import { StompClient } from '../../src/client/index.js';
import { eventually } from '../helpers/broker.js';
import { type CliProcess, freePort, freePortRange, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const CHROMIUM = '/usr/bin/chromium';
const unavailable = existsSync(CHROMIUM) ? null : `no ${CHROMIUM} (apt-get install chromium)`;

let browser: Browser | null = null;

beforeAll(async () => {
  if (!unavailable) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless'] });
});

afterAll(async () => {
  await browser?.close();
});

interface Running {
  process: CliProcess;
  port: number;
  admin: string;
}

async function brokerProcess(name: string, network: string[] = []): Promise<Running> {
  const admin = await freePort();
  const p = runCli(['broker', '--name', name, '--no-persistent', '--stomp', 'stomp://127.0.0.1:0', '--admin', `http://127.0.0.1:${admin}`, '--log-format', 'json', ...network.flatMap((n) => ['--network', n])]);
  return { process: p, port: await p.port(), admin: `http://127.0.0.1:${admin}` };
}

async function status(b: Running): Promise<{ queues: Array<{ name: string; pending: number }>; network?: { bridges: Array<{ state: string; fault: { kind: string } | null }> } }> {
  return (await fetch(`${b.admin}/api/status`)).json() as never;
}

async function open(url: string): Promise<Page> {
  const page = await browser!.newPage();
  page.on('dialog', (d) => void d.accept());
  await page.goto(url);
  return page;
}

describe('the console in Chromium', () => {
  it('shows a queue\'s messages live, browses them and purges the queue from the page', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const b = await brokerProcess('console-broker');
    const page = await open(`${b.admin}/#queues`);
    await page.locator('#broker-name', { hasText: 'console-broker' }).waitFor();
    expect(await page.locator('#role').textContent()).toBe('master');

    const client = await StompClient.connect(`stomp://127.0.0.1:${b.port}`);
    for (let i = 0; i < 5; i++) await client.sendWithReceipt('/queue/orders', `order ${i}`);
    // No reload: the page polls.
    const row = page.locator('tr[data-queue="orders"]');
    await row.locator('td', { hasText: /^5$/ }).first().waitFor({ timeout: 5000 });

    await row.getByRole('button', { name: 'Browse' }).click();
    await page.locator('#messages tr[data-message]').nth(4).waitFor();
    expect(await page.locator('#messages').textContent()).toContain('order 3');

    await row.getByRole('button', { name: 'Purge' }).click();
    await eventually(async () => (await status(b)).queues.find((q) => q.name === 'orders')?.pending === 0, 5000, 'the purge on the broker');
    await page.locator('#notice', { hasText: 'Purged 5 messages from orders' }).waitFor();
    client.destroy();
  }, 60_000);

  it('shows the edge\'s bridge up on the Network tab, and a click on stall stalls it on the broker', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const hub = await brokerProcess('hub');
    const edge = await brokerProcess('edge', [`static:(stomp://127.0.0.1:${hub.port})?progressTimeout=0`]);
    const page = await open(`${edge.admin}/#network`);
    const bridge = page.locator('#bridges tr[data-bridge]');
    await bridge.locator('td.state-up').waitFor({ timeout: 10_000 });
    expect(await bridge.textContent()).toContain('hub');

    await bridge.getByRole('button', { name: 'stall' }).click();
    await eventually(async () => (await status(edge)).network?.bridges[0].fault?.kind === 'stall', 5000, 'the stall on the broker');
    await bridge.locator('td', { hasText: 'up (stall)' }).waitFor();
    await bridge.getByRole('button', { name: 'heal' }).click();
    await eventually(async () => (await status(edge)).network?.bridges[0].fault === null, 5000, 'the bridge healed');
  }, 60_000);

  it('draws a master/slave cluster and shows the failover after kill -9 of the master from its button, then the restarted broker waiting', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const c = await clusterProcess('master-slave', '--lock-poll', '500');
    const page = await open(c.view);
    await page.locator('g[data-broker="broker1"][data-role="master"]').waitFor({ timeout: 10_000 });
    await page.locator('g[data-broker="broker2"][data-role="slave"]').waitFor();
    await page.locator('[data-holder="broker1"]').waitFor();

    await page.locator('tr[data-broker-row="broker1"]').getByRole('button', { name: 'kill -9' }).click();
    await page.locator('g[data-broker="broker1"][data-role="down"]').waitFor({ timeout: 10_000 });
    await page.locator('g[data-broker="broker2"][data-role="master"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-holder="broker2"]').waitFor();
    await c.process.waitForOutput(/^\[broker1\]\s+fault: kill \(SIGKILL to pid \d+\)$/);

    await page.locator('tr[data-broker-row="broker1"]').getByRole('button', { name: 'restart' }).click();
    await page.locator('g[data-broker="broker1"][data-role="slave"]').waitFor({ timeout: 15_000 });
    await stop(c);
  }, 90_000);

  it('draws the network\'s bridges, freezes the hub and stalls a bridge from the page and from amq-sim fault', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const c = await clusterProcess('network');
    const page = await open(c.view);
    await page.locator('path[data-bridge="broker2->broker1"][stroke="#2e7d32"]').waitFor({ timeout: 15_000 });
    await page.locator('path[data-bridge="broker3->broker1"]').waitFor();

    await page.locator('tr[data-broker-row="broker2"] [data-bridge-row] button', { hasText: 'stall' }).click();
    await page.locator('path[data-bridge="broker2->broker1"][stroke="#c62828"]').waitFor({ timeout: 10_000 });

    const freeze = runCli(['fault', 'freeze', 'broker1', '--cluster', c.view]);
    expect(await freeze.waitExit()).toBe(0);
    await page.locator('g[data-broker="broker1"][data-role="frozen"]').waitFor({ timeout: 10_000 });
    await page.locator('tr[data-broker-row="broker1"]').getByRole('button', { name: 'resume' }).click();
    await page.locator('g[data-broker="broker1"][data-role="master"]').waitFor({ timeout: 10_000 });
    await stop(c);
  }, 90_000);
});

async function clusterProcess(topology: string, ...extra: string[]): Promise<{ process: CliProcess; view: string }> {
  // One range for every port the cluster listens on: none picked twice.
  const base = await freePortRange(10);
  const adminBase = base + 4;
  const consolePort = base + 8;
  const p = runCli(['cluster', topology, '--base-port', String(base), '--admin-base-port', String(adminBase), '--console-port', String(consolePort), '--front-door-port', String(base + 9), '--data', tempDir('cluster-view'), '--log-format', 'pretty', ...extra]);
  await p.waitForOutput(/^Ctrl-C stops every broker/, 30_000);
  expect(p.stdoutText.join('\n')).toContain(`Cluster view: http://127.0.0.1:${consolePort}/`);
  return { process: p, view: `http://127.0.0.1:${consolePort}/` };
}

async function stop(c: { process: CliProcess }): Promise<void> {
  c.process.signal('SIGINT');
  expect(await c.process.waitExit(20_000)).toBe(0);
}

// Makes the screenshots of docs/CONSOLE.md: `npm run build && node scripts/console-screenshots.mjs`
// (needs Chromium at /usr/bin/chromium, and ports 63611-63614, 9160-9164 free).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { StompClient } from '../dist/src/client/index.js';

const cluster = spawn(process.execPath, ['dist/bin/amq-sim.js', 'cluster', 'combined', '--base-port', '63611', '--admin-base-port', '9161', '--console-port', '9160', '--data', mkdtempSync(join(tmpdir(), 'amq-sim-shots-')), '--log-format', 'pretty'], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
cluster.stdout.on('data', (d) => (out += d));
while (!out.includes('Ctrl-C stops')) await sleep(200);
await sleep(3000);
const consumers = await Promise.all(['63612', '63613'].map((port) => StompClient.connect(`stomp://127.0.0.1:${port}`)));
for (const c of consumers) await c.subscribe('/queue/orders', () => {});
const producer = await StompClient.connect('stomp://127.0.0.1:63611');
for (let i = 0; i < 40; i++) await producer.sendWithReceipt('/queue/invoices', `invoice ${i}`, { persistent: 'true', region: i % 2 ? 'eu' : 'us' });
const flow = setInterval(() => {
  for (let i = 0; i < 30; i++) producer.send('/queue/orders', 'live');
}, 100);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--headless'] });
const page = await browser.newPage({ viewport: { width: 1300, height: 760 } });
await page.goto('http://127.0.0.1:9160/');
await sleep(3500);
await page.screenshot({ path: 'docs/images/cluster-view.png' });
await page.goto('http://127.0.0.1:9161/#queues');
await sleep(2500);
await page.locator('tr[data-queue="invoices"]').getByRole('button', { name: 'Browse' }).click();
await sleep(1000);
await page.screenshot({ path: 'docs/images/console-queues.png' });
await page.goto('http://127.0.0.1:9162/#network');
await sleep(2500);
await page.screenshot({ path: 'docs/images/console-network.png' });

clearInterval(flow);
await browser.close();
for (const c of [...consumers, producer]) c.destroy();
cluster.kill('SIGINT');
await new Promise((resolve) => cluster.on('exit', resolve));

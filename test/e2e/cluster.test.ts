import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StompClient } from '../../src/client/index.js';
import { eventually, sleep } from '../helpers/broker.js';
import { type CliProcess, freePort, freePortRange, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const FINAL_PRODUCED = /^Produced (\d+) messages to \S+ in [\d.]+ s \(\d+ msg\/s\), (\d+) errors(?:, (\d+) sent again after a reconnect)?$/;
const FINAL_CONSUMED = /^Consumed (\d+) messages from \S+ in [\d.]+ s \(\d+ msg\/s\), (\d+) duplicates, (\d+) redelivered, (\d+) errors$/;

interface Cluster {
  p: CliProcess;
  view: string;
  data: string;
  port: (i: number) => number;
  pid: (broker: string) => number;
}

/** `amq-sim cluster …` on free ports in a fresh data directory, with plain prefixed log lines. */
async function cluster(topology: string, ...extra: string[]): Promise<Cluster> {
  const data = tempDir('cluster');
  // One range for every port the cluster listens on: none picked twice.
  const base = await freePortRange(10);
  const adminBase = base + 4;
  const consolePort = base + 8;
  const frontDoor = extra.includes('--front-door-port') ? [] : ['--front-door-port', String(base + 9)];
  const p = runCli(['cluster', topology, '--base-port', String(base), '--admin-base-port', String(adminBase), '--console-port', String(consolePort), ...frontDoor, '--data', data, '--log-format', 'pretty', ...extra], {}, true);
  await p.waitForOutput(/^Ctrl-C stops every broker/, 30_000);
  const pid = (broker: string) => Number(new RegExp(`^${broker}\\s+(\\d+)\\s+stomp(\\+ssl)?://`).exec(p.stdoutText.find((l) => l.startsWith(`${broker} `))!)![1]);
  return { p, data, port: (i) => base + i, pid, view: `http://127.0.0.1:${consolePort}` };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const url = (port: number) => `stomp://127.0.0.1:${port}`;

/** A consume tool that runs until it has been idle for `idle` seconds (long enough to outlast a failover), printing bodies. */
function consumer(target: string, idle: number): CliProcess {
  return runCli(['consume', '--url', target, '--destination', '/queue/orders', '--count', '0', '--idle-timeout', String(idle), '--print']);
}

async function finished(p: CliProcess, final: RegExp): Promise<{ match: RegExpExecArray; bodies: string[] }> {
  await p.waitExit(60_000);
  const last = p.stdoutText.at(-1) ?? '';
  const match = final.exec(last);
  if (!match) throw new Error(`no final line: ${last}\n${p.stderr}`);
  return { match, bodies: p.stdoutText.slice(0, -1) };
}

const numbers = (bodies: string[]) => bodies.map((b) => Number(/^test message: (\d+)$/.exec(b)![1]));

/** Ctrl-C in the terminal: SIGINT to the whole foreground group. Every broker stops cleanly, once. */
async function stopCluster(c: Cluster, brokers: string[]): Promise<void> {
  const pids = brokers.map(c.pid);
  c.p.signalGroup('SIGINT');
  expect(await c.p.waitExit(20_000)).toBe(0);
  for (const pid of pids) expect(alive(pid), `broker pid ${pid} still running`).toBe(false);
  for (const b of brokers) expect(c.p.stdoutText.some((l) => new RegExp(`^\\[${b}\\]\\s+exited with status 0$`).test(l)), `${b} exited with status 0`).toBe(true);
}

describe('amq-sim cluster', () => {
  it('network: the seed ports, [name]-prefixed logs, hub messages consumed on both edges once; Ctrl-C stops all and keeps the data', async () => {
    const c = await cluster('network');
    writeFileSync(join(c.data, 'notes.txt'), 'mine');
    const table = c.p.stdoutText.join('\n');
    for (const [i, b] of ['broker1', 'broker2', 'broker3'].entries()) expect(table).toMatch(new RegExp(`^${b}\\s+\\d+\\s+${url(c.port(i))}`, 'm'));
    await c.p.waitForOutput(/^\[broker2\]\s.*Network connection between vm:\/\/broker2 and .*\(broker1\) has been established\./);
    await c.p.waitForOutput(/^\[broker3\]\s.*has been established\./);
    expect(c.p.stdoutText.some((l) => /^\[broker1\]\s+\S+ \S+ \| INFO {2}\| amq-sim \S+ \(broker1, .*\) started$/.test(l))).toBe(true);

    const edges = [consumer(url(c.port(1)), 5), consumer(url(c.port(2)), 5)];
    await sleep(800);
    const producer = runCli(['produce', '--url', url(c.port(0)), '--destination', 'queue://orders', '--count', '400']);
    const produced = await finished(producer, FINAL_PRODUCED);
    expect(produced.match.slice(1, 3)).toEqual(['400', '0']);
    const got = await Promise.all(edges.map((e) => finished(e, FINAL_CONSUMED)));
    const all = got.flatMap((g) => numbers(g.bodies));
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    for (const g of got) expect(g.bodies.length).toBeGreaterThan(50);

    await stopCluster(c, ['broker1', 'broker2', 'broker3']);
    expect(readFileSync(join(c.data, 'notes.txt'), 'utf8')).toBe('mine');
    for (const b of ['broker1', 'broker2', 'broker3']) expect(existsSync(join(c.data, b))).toBe(true);
  });

  it('master-slave: broker2 waits; kill -9 of broker1 mid-stream, the failover clients carry on through broker2, nothing lost', async () => {
    const c = await cluster('master-slave', '--lock-poll', '1000');
    await c.p.waitForOutput(/^\[broker2\]\s.*is locked by another server\. This broker is now in slave mode/);
    const pair = `failover:(${url(c.port(0))},${url(c.port(1))})?randomize=false&initialReconnectDelay=100&maxReconnectDelay=500`;
    const sink = consumer(pair, 10);
    const producer = runCli(['produce', '--url', pair, '--destination', '/queue/orders', '--count', '600', '--rate', '200']);
    await sleep(1500);
    process.kill(c.pid('broker1'), 'SIGKILL');
    await c.p.waitForOutput(/^\[broker1\]\s+exited: killed by SIGKILL$/);
    await c.p.waitForOutput(/^\[broker2\]\s.*Lock acquired on .* after waiting/, 20_000);
    const produced = await finished(producer, FINAL_PRODUCED);
    expect(produced.match.slice(1, 3)).toEqual(['600', '0']);
    const consumed = await finished(sink, FINAL_CONSUMED);
    // A message id seen twice is one whose ack the crash took: broker2 redelivers it, marked redelivered.
    expect(Number(consumed.match[2])).toBeLessThanOrEqual(Number(consumed.match[3]));
    expect(new Set(numbers(consumed.bodies))).toEqual(new Set(Array.from({ length: 600 }, (_, i) => i)));
    expect(sink.stderr).toMatch(/Connection lost: .*reconnecting/);
    await stopCluster(c, ['broker2']);
  });

  it('combined: kill -9 of the hub master broker1a; broker1b takes over, the edges re-bridge and their consumers get every message', async () => {
    const c = await cluster('combined', '--lock-poll', '1000');
    await c.p.waitForOutput(/^\[broker1b\]\s.*now in slave mode/);
    await c.p.waitForOutput(/^\[broker3\]\s.*\(broker1a\) has been established\./);
    const edges = [consumer(url(c.port(1)), 10), consumer(url(c.port(2)), 10)];
    await sleep(800);
    const pair = `failover:(${url(c.port(0))},${url(c.port(3))})?randomize=false&initialReconnectDelay=100&maxReconnectDelay=500`;
    const producer = runCli(['produce', '--url', pair, '--destination', '/queue/orders', '--count', '600', '--rate', '200']);
    await sleep(1500);
    process.kill(c.pid('broker1a'), 'SIGKILL');
    await c.p.waitForOutput(/^\[broker1b\]\s.*Lock acquired on .* after waiting/, 20_000);
    await c.p.waitForOutput(/^\[broker2\]\s.*\(broker1b\) has been established\./, 20_000);
    const produced = await finished(producer, FINAL_PRODUCED);
    expect(produced.match.slice(1, 3)).toEqual(['600', '0']);
    const resent = Number(produced.match[3] ?? 0);
    const got = await Promise.all(edges.map((e) => finished(e, FINAL_CONSUMED)));
    const all = got.flatMap((g) => numbers(g.bodies));
    expect(new Set(all)).toEqual(new Set(Array.from({ length: 600 }, (_, i) => i)));
    // Only a send whose receipt the crash took may arrive twice (STOMP producers are at-least-once, as with ActiveMQ).
    expect(all.length - 600).toBeLessThanOrEqual(resent);
    for (const g of got) expect(g.bodies.length).toBeGreaterThan(50);
    await stopCluster(c, ['broker1b', 'broker2', 'broker3']);
  });

  it('runs a topology file, and refuses a bad one, a bad network URI or a taken port with exit code 2', async () => {
    const dir = tempDir('topology');
    const file = join(dir, 'chain.yml');
    writeFileSync(file, ['brokers:', '  - name: hub', '    config: { persistent: false }', '  - name: edge', '    network: ["static:(${hub})"]', '    config: { persistent: false }', ''].join('\n'));
    const c = await cluster(file);
    expect(c.p.stdoutText.join('\n')).toMatch(/^Cluster 'chain'/m);
    expect(c.p.stdoutText.join('\n')).toMatch(/^edge\s+\d+\s+stomp:\S+\s+http:\S+\s+\(memory\)\s+network → static:\(stomp:\/\/127\.0\.0\.1:\d+\)$/m);
    await c.p.waitForOutput(/^\[edge\]\s.*\(hub\) has been established\./);
    c.p.signal('SIGTERM');
    expect(await c.p.waitExit(20_000)).toBe(0);

    // kill -9 of the cluster process leaves no broker behind.
    const again = await cluster(file);
    const pids = ['hub', 'edge'].map(again.pid);
    await again.p.kill();
    await eventually(() => pids.every((pid) => !alive(pid)), 10_000, 'the brokers to stop after the cluster process was killed');

    const refuse = async (args: string[], message: RegExp) => {
      const p = runCli(['cluster', ...args, '--data', dir]);
      expect(await p.waitExit(10_000)).toBe(2);
      expect(p.stderr).toMatch(message);
    };
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'brokers:\n  - name: a\n    ports: 5\n');
    await refuse([bad], /Topology .*bad\.yml: unknown key 'brokers\[0\]\.ports'/);
    const badUri = join(dir, 'bad-uri.json');
    writeFileSync(badUri, JSON.stringify({ brokers: [{ name: 'a' }, { name: 'b', network: ['static:(${a})?duplx=true'] }] }));
    await refuse([badUri], /Broker b: .*duplx/);
    await refuse(['star'], /No built-in topology 'star' \(built-ins: master-slave, network, combined\)/);
    // broker2's port held, broker1's free: both from the test band (a port-0 listener's neighbour may be another test's).
    const base = await freePortRange(2);
    const held = runCli(['broker', '--stomp', `stomp://127.0.0.1:${base + 1}`, '--no-persistent', '--log-format', 'json']);
    await held.port();
    await refuse(['network', '--base-port', String(base)], new RegExp(`Port ${base + 1} \\(broker2 STOMP\\) is in use`));
  });

  it('network --secure --tls: users with generated passwords, bridges that log in over stomp+ssl, clients refused without a login', async () => {
    const pem = (name: string) => new URL(`../fixtures/tls/${name}.pem`, import.meta.url).pathname;
    const shared = join(tempDir('secure'), 'tls.json');
    writeFileSync(shared, JSON.stringify({ sslContext: { keyFile: pem('broker-key'), certFile: pem('broker'), caFile: pem('ca') } }));
    const c = await cluster('network', '--secure', '--tls', '--config', shared);
    const table = c.p.stdoutText.join('\n');
    const [, password] = /^Users: admin \/ (\S+) .* bridge \/ \S+ \(network connectors\)$/m.exec(table)!;
    expect(table).toMatch(new RegExp(`^broker1\\s+\\d+\\s+stomp\\+ssl://127\\.0\\.0\\.1:${c.port(0)}\\s+http://admin:${password}@`, 'm'));
    await c.p.waitForOutput(/^\[broker2\]\s.*\(broker1\) has been established\./);
    await c.p.waitForOutput(/^\[broker3\]\s.*\(broker1\) has been established\./);
    // The generated configs hold hashes, readable by their owner only.
    const config = join(c.data, 'broker1.config.json');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, 'utf8')).not.toContain(password);

    const tls = (port: number) => ['--url', `stomp+ssl://127.0.0.1:${port}`, '--ca', pem('ca'), '--destination', '/queue/orders'];
    const anonymous = runCli(['produce', ...tls(c.port(0)), '--count', '1']);
    expect(await anonymous.waitExit(20_000)).not.toBe(0);
    expect(anonymous.stderr).toContain('User name [null] or password is invalid.');
    const consuming = runCli(['consume', ...tls(c.port(1)), '--user', 'admin', '--password', password, '--count', '100']);
    await sleep(1000);
    const producer = runCli(['produce', ...tls(c.port(0)), '--user', 'admin', '--password', password, '--count', '100']);
    expect((await finished(producer, FINAL_PRODUCED)).match[1]).toBe('100');
    expect((await finished(consuming, FINAL_CONSUMED)).match[1]).toBe('100');
    await stopCluster(c, ['broker1', 'broker2', 'broker3']);
  });

  it('master-slave front door: a client with one address keeps working across kill -9 of the master, by reconnecting to the same address', async () => {
    const frontDoor = await freePort();
    const c = await cluster('master-slave', '--lock-poll', '500', '--front-door-port', String(frontDoor));
    expect(c.p.stdoutText.join('\n')).toContain(`or one address that always reaches the current master (front door): stomp://127.0.0.1:${frontDoor}`);
    await c.p.waitForOutput(/^\[broker2\]\s.*now in slave mode/);
    const door = url(frontDoor);
    const before = await StompClient.connect(door);
    for (let i = 0; i < 50; i++) await before.sendWithReceipt('/queue/orders', `order ${i}`, { persistent: 'true' });
    const lost = new Promise((resolve) => before.once('disconnected', resolve).once('closed', resolve));
    const killedAt = Date.now();
    const fault = runCli(['fault', 'kill', 'broker1', '--cluster', c.view]);
    expect(await fault.waitExit()).toBe(0);
    await lost;
    // The same address, again and again, as a client without failover does.
    let after: StompClient | null = null;
    while (!after) after = await StompClient.connect(door, { connectTimeout: 1000 }).catch(() => sleep(100).then(() => null));
    const seconds = (Date.now() - killedAt) / 1000;
    process.stderr.write(`front door: kill -9 of the master → CONNECTED through the front door on the new master in ${seconds.toFixed(2)} s (lock poll 500 ms)\n`);
    expect(after.serverHeaders.server).toMatch(/^amq-sim\//);
    const got: string[] = [];
    await after.subscribe('/queue/orders', (m) => got.push(m.text));
    await eventually(() => got.length === 50, 10_000, 'the 50 stored messages through the front door');
    before.destroy();
    after.destroy();
    await stopCluster(c, ['broker2']);
  });
});

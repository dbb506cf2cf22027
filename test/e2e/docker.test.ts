/**
 * docker/Dockerfile, docker/compose/<topology>/ and docker/swarm/*.yml, built
 * and run for real (Swarm on a single-node swarm bound to loopback). No
 * registry is reachable, so ../shared/tools/docker-node-base.sh (when it is
 * there) first starts a Docker engine and builds the local
 * node:20-bookworm-slim base image. Skipped, saying why, only where no engine
 * can run at all.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { StompClient } from '../../src/client/index.js';
import { eventually } from '../helpers/broker.js';
import { DOCKER_PORTS, freePortRange, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BASE_IMAGE_SCRIPT = join(ROOT, '..', 'shared', 'tools', 'docker-node-base.sh');
const FINAL_CONSUMED = /^Consumed (\d+) messages from \S+ in [\d.]+ s \(\d+ msg\/s\), (\d+) duplicates/;

function run(cmd: string, args: string[], o: ExecFileOptions = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { maxBuffer: 64 << 20, ...o }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    ),
  );
}

/** Why Docker cannot be used here, or null when it can. */
async function dockerUnavailable(): Promise<string | null> {
  if (existsSync(BASE_IMAGE_SCRIPT)) {
    const r = process.getuid?.() === 0 ? await run('bash', [BASE_IMAGE_SCRIPT]) : await run('sudo', ['-n', 'bash', BASE_IMAGE_SCRIPT]);
    if (r.code !== 0) return `${BASE_IMAGE_SCRIPT} failed (exit ${r.code}): ${r.out.trim().split('\n').slice(-3).join(' / ')}`;
  }
  if ((await run('docker', ['info'])).code !== 0) return 'no Docker engine answers `docker info`';
  if ((await run('docker', ['image', 'inspect', 'node:20-bookworm-slim'])).code !== 0) return 'no local node:20-bookworm-slim image and no registry to pull it from';
  if ((await run('docker-compose', ['version'])).code !== 0) return 'no docker-compose';
  return null;
}

/** One topology's compose project: its own folder and, unless given one, the project name its .env sets. */
class Compose {
  constructor(
    private readonly topology: string,
    private readonly env: Record<string, string>,
    readonly project: string | null = `amqsim${process.pid}${Math.floor(Math.random() * 1e6)}`,
  ) {}

  async run(...args: string[]): Promise<string> {
    const project = this.project ? ['-p', this.project] : [];
    const r = await run('docker-compose', [...project, '-f', join(ROOT, 'docker', 'compose', this.topology, 'docker-compose.yml'), ...args], { env: { ...process.env, ...this.env } });
    if (r.code !== 0) throw new Error(`docker-compose ${args.join(' ')} failed:\n${r.out}`);
    return r.out;
  }

  logs(service: string): Promise<string> {
    return this.run('logs', '--no-color', service);
  }

  down(): Promise<string> {
    return this.run('down', '-v', '--remove-orphans', '-t', '5');
  }
}

/** Consumes from each URL until idle, in parallel; the bodies each got. */
async function consumeEach(urls: string[], idle: number): Promise<string[][]> {
  const tools = urls.map((url) => runCli(['consume', '--url', url, '--destination', '/queue/orders', '--count', '0', '--idle-timeout', String(idle), '--print']));
  return Promise.all(
    tools.map(async (t) => {
      await t.waitExit(90_000);
      expect(t.stdoutText.at(-1)).toMatch(FINAL_CONSUMED);
      return t.stdoutText.slice(0, -1);
    }),
  );
}

async function produce(url: string, count: number): Promise<void> {
  const p = runCli(['produce', '--url', url, '--destination', '/queue/orders', '--count', String(count)]);
  expect(await p.waitExit(60_000)).toBe(0);
}

let unavailable: string | null = 'not checked';
const stacks: Compose[] = [];

beforeAll(async () => {
  unavailable = await dockerUnavailable();
  if (unavailable) console.warn(`Docker tests skipped: ${unavailable}`);
}, 300_000);

afterAll(async () => {
  await Promise.all(stacks.map((s) => s.down().catch(() => undefined)));
}, 120_000);

/** Ports for one compose topology: `<SERVICE>_STOMP_PORT` and `<SERVICE>_ADMIN_PORT` for each broker, and `extra` after them; one range, so none is picked twice. */
async function composePorts(services: string[], extra = 0): Promise<{ env: Record<string, string>; stomp: number; admin: number; extra: number }> {
  const stomp = await freePortRange(2 * services.length + extra, DOCKER_PORTS);
  const admin = stomp + services.length;
  const env: Record<string, string> = {};
  services.forEach((s, i) => {
    env[`${s.toUpperCase()}_STOMP_PORT`] = String(stomp + i);
    env[`${s.toUpperCase()}_ADMIN_PORT`] = String(admin + i);
  });
  return { env, stomp, admin, extra: admin + services.length };
}

const builds = (upOutput: string) => upOutput.split('\n').filter((l) => /^Building \S+$/.test(l.trim()));

describe('docker-compose topologies', () => {
  it('network and master-slave side by side, each its own project (containers, network, volumes), one image build per up; the front door follows the master across docker kill', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const net = await composePorts(['broker1', 'broker2', 'broker3']);
    // Credentials and the bridge secret reach every container from the environment.
    const network = new Compose('network', { ...net.env, AMQ_SIM_ADMIN_PASSWORD: 'compose-test-password', AMQ_SIM_BRIDGE_SECRET: `secret-${process.pid}` }, null);
    stacks.push(network);
    expect(builds(await network.run('up', '-d', '--build'))).toEqual(['Building broker1']);
    const ms = await composePorts(['broker1', 'broker2'], 1);
    const frontDoor = ms.extra;
    const pair = new Compose('master-slave', { ...ms.env, LOCK_POLL: '1000', FRONT_DOOR_PORT: String(frontDoor) }, null);
    stacks.push(pair);
    expect(builds(await pair.run('up', '-d', '--build'))).toEqual(['Building broker1']);
    const names = (await run('docker', ['ps', '--format', '{{.Names}}'])).out.split('\n');
    expect(names).toEqual(expect.arrayContaining(['amq-sim-network_broker1_1', 'amq-sim-network_broker3_1', 'amq-sim-master-slave_broker1_1', 'amq-sim-master-slave_broker2_1', 'amq-sim-master-slave_front-door_1']));
    const volumes = (await run('docker', ['volume', 'ls', '--format', '{{.Name}}'])).out.split('\n');
    expect(volumes).toEqual(expect.arrayContaining(['amq-sim-network_broker1-data', 'amq-sim-master-slave_kahadb']));

    // The network: produced on broker1, consumed on broker2 and broker3 through the published ports.
    for (const service of ['broker2', 'broker3']) {
      await eventually(async () => /\(broker1\) has been established\./.test(await network.logs(service)), 60_000, `${service} bridged to broker1`);
    }
    const consuming = consumeEach([`stomp://127.0.0.1:${net.stomp + 1}`, `stomp://127.0.0.1:${net.stomp + 2}`], 4);
    await new Promise((r) => setTimeout(r, 1500));
    await produce(`stomp://127.0.0.1:${net.stomp}`, 300);
    const got = await consuming;
    const numbers = got.flat().map((b) => Number(/^test message: (\d+)$/.exec(b)![1]));
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (const g of got) expect(g.length).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${net.admin}/health`).then((r) => r.json());
    expect(health).toMatchObject({ ok: true, role: 'master' });
    expect((await fetch(`http://127.0.0.1:${net.admin + 1}/api/status`)).status).toBe(401);
    const basic = `Basic ${Buffer.from('admin:compose-test-password').toString('base64')}`;
    const status = (await fetch(`http://127.0.0.1:${net.admin + 1}/api/status`, { headers: { authorization: basic } }).then((r) => r.json())) as { brokerName: string };
    expect(status.brokerName).toBe('broker2');

    // The pair beside it: messages through the front door, docker kill of the master, the same address again.
    await eventually(async () => /now in slave mode waiting a lock to be acquired/.test(await pair.logs('broker2')), 60_000, 'broker2 in slave mode');
    await eventually(async () => /Front door forwards to broker1:61613/.test(await pair.logs('front-door')), 30_000, 'the front door on broker1');
    const door = `stomp://127.0.0.1:${frontDoor}`;
    await produce(door, 200);
    const killedAt = Date.now();
    await pair.run('kill', 'broker1');
    let after: StompClient | null = null;
    while (!after) after = await StompClient.connect(door, { connectTimeout: 1000 }).catch(() => new Promise<null>((r) => setTimeout(() => r(null), 200)));
    process.stderr.write(`compose front door: docker kill of the master → CONNECTED on the new master in ${((Date.now() - killedAt) / 1000).toFixed(2)} s (lock poll 1 s; another container's lock is taken when stale, 10 s)\n`);
    after.destroy();
    expect(await pair.logs('broker2')).toMatch(/Lock acquired on \/data\/kahadb\/lock after waiting/);
    const [bodies] = await consumeEach([door], 3);
    expect(new Set(bodies).size).toBe(200);
    await Promise.all([network.down(), pair.down()]);
  }, 600_000);
});

/** Swarm's stack files, deployed as they are but for `ports`: published ports would listen on every interface of this machine; clients run in containers on the stack's network instead. */
async function deployStack(file: string, name: string, env: Record<string, string>): Promise<void> {
  const stack = parse(readFileSync(join(ROOT, 'docker', 'swarm', file), 'utf8'), { merge: true, maxAliasCount: -1 }) as { services: Record<string, { ports?: unknown }> } & Record<string, unknown>;
  for (const service of Object.values(stack.services)) delete service.ports;
  const local = join(tempDir('swarm'), file);
  writeFileSync(local, stringify(stack));
  const r = await run('docker', ['stack', 'deploy', '-c', local, name], { env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`docker stack deploy ${name} failed:\n${r.out}`);
}

async function serviceLogs(service: string): Promise<string> {
  return (await run('docker', ['service', 'logs', '--raw', service])).out;
}

/** The amq-sim CLI in a container on the stack's network. */
function tool(network: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return run('docker', ['run', '--rm', '--network', network, 'amq-sim:local', ...args]);
}

describe('Docker Swarm stacks', () => {
  let swarmUnavailable: string | null = null;
  let initialized = false;
  const deployed: string[] = [];

  beforeAll(async () => {
    if (unavailable) return;
    const state = (await run('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).out.trim();
    if (state !== 'active') {
      const r = await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377']);
      if (r.code !== 0) swarmUnavailable = `docker swarm init failed: ${r.out.trim()}`;
      else initialized = true;
    }
    if (!swarmUnavailable) {
      const b = await run('docker', ['build', '-q', '-f', join(ROOT, 'docker', 'Dockerfile'), '-t', 'amq-sim:local', ROOT]);
      if (b.code !== 0) swarmUnavailable = `docker build failed: ${b.out.slice(-500)}`;
    }
  }, 600_000);

  afterAll(async () => {
    for (const name of deployed) await run('docker', ['stack', 'rm', name]);
    // Volumes go once the stacks' containers are gone.
    await eventually(async () => (await run('docker', ['ps', '-aq', '--filter', 'label=com.docker.stack.namespace'])).out.trim() === '', 60_000, 'the stacks gone').catch(() => undefined);
    const volumes = (await run('docker', ['volume', 'ls', '-q'])).out.split('\n').filter((v) => deployed.some((name) => v.startsWith(`${name}_`)));
    if (volumes.length > 0) await run('docker', ['volume', 'rm', ...volumes]);
    if (initialized) await run('docker', ['swarm', 'leave', '--force']);
  }, 180_000);

  it('master-slave.yml: the pair shares one volume; docker kill of the master task, and the front door reaches the broker that took over, with every message', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    if (swarmUnavailable) return ctx.skip(swarmUnavailable);
    const name = `amqms${process.pid}`;
    deployed.push(name);
    await deployStack('master-slave.yml', name, { LOCK_POLL: '1000' });
    const net = `${name}_amq`;
    // Swarm starts both at once (no depends_on): either may take the lock first.
    let master = '';
    await eventually(async () => {
      master = /Front door forwards to (broker[12]):61613/.exec(await serviceLogs(`${name}_front-door`))?.[1] ?? '';
      return master !== '';
    }, 90_000, 'the front door on the master');
    const slave = master === 'broker1' ? 'broker2' : 'broker1';
    await eventually(async () => /now in slave mode/.test(await serviceLogs(`${name}_${slave}`)), 60_000, `${slave} waiting as the slave`);
    const produced = await tool(net, 'produce', '--url', 'stomp://front-door:61610', '--destination', '/queue/orders', '--count', '100', '--persistent');
    expect(produced.out).toMatch(/Produced 100 messages/);
    const task = (await run('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}_${master}`])).out.trim();
    expect(task).not.toBe('');
    const killedAt = Date.now();
    await run('docker', ['kill', task]);
    let consumed = { code: 1, out: '' };
    while (consumed.code !== 0 && Date.now() - killedAt < 60_000) consumed = await tool(net, 'consume', '--url', 'stomp://front-door:61610', '--destination', '/queue/orders', '--count', '100', '--idle-timeout', '5');
    process.stderr.write(`swarm front door: docker kill of the master task → its 100 messages consumed through the front door ${((Date.now() - killedAt) / 1000).toFixed(1)} s later (lock poll 1 s, stale lock 10 s)\n`);
    expect(consumed.out).toMatch(/Consumed 100 messages from \/queue\/orders .* 0 duplicates/);
    // The lock goes to whichever waiting broker polls first once it is stale: the slave, or the new task Swarm started for the killed one.
    expect((await serviceLogs(`${name}_broker1`)) + (await serviceLogs(`${name}_broker2`))).toMatch(/Lock acquired on \/data\/kahadb\/lock after waiting/);
    // Swarm replaced the killed task.
    await eventually(async () => !['', task].includes((await run('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${name}_${master}`])).out.trim()), 60_000, `a new ${master} task`);
  }, 300_000);

  it('network.yml: the edges find the hub by its service name; produced on the hub, consumed on both edges', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    if (swarmUnavailable) return ctx.skip(swarmUnavailable);
    const name = `amqnet${process.pid}`;
    deployed.push(name);
    await deployStack('network.yml', name, {});
    const net = `${name}_amq`;
    for (const edge of ['broker2', 'broker3']) await eventually(async () => /\(broker1\) has been established\./.test(await serviceLogs(`${name}_${edge}`)), 90_000, `${edge} bridged to broker1`);
    const consumers = ['broker2', 'broker3'].map((edge) => tool(net, 'consume', '--url', `stomp://${edge}:61613`, '--destination', '/queue/orders', '--count', '0', '--idle-timeout', '6'));
    await new Promise((r) => setTimeout(r, 3000));
    expect((await tool(net, 'produce', '--url', 'stomp://broker1:61613', '--destination', '/queue/orders', '--count', '200')).out).toMatch(/Produced 200 messages/);
    const counts = (await Promise.all(consumers)).map((c) => Number(/Consumed (\d+) messages/.exec(c.out)?.[1] ?? -1));
    expect(counts[0] + counts[1]).toBe(200);
    expect(Math.min(...counts)).toBeGreaterThan(0);
  }, 300_000);

  it('combined.yml: the hub pair behind its front door; the edges reach whichever serves through failover:, and get what is produced through the front door', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    if (swarmUnavailable) return ctx.skip(swarmUnavailable);
    const name = `amqcomb${process.pid}`;
    deployed.push(name);
    await deployStack('combined.yml', name, { LOCK_POLL: '1000' });
    const net = `${name}_amq`;
    for (const edge of ['broker2', 'broker3']) await eventually(async () => /\(broker1[ab]\) has been established\./.test(await serviceLogs(`${name}_${edge}`)), 90_000, `${edge} bridged to the hub's master`);
    await eventually(async () => /Front door forwards to broker1[ab]:61613/.test(await serviceLogs(`${name}_front-door`)), 60_000, "the front door on the hub's master");
    const consumers = ['broker2', 'broker3'].map((edge) => tool(net, 'consume', '--url', `stomp://${edge}:61613`, '--destination', '/queue/orders', '--count', '0', '--idle-timeout', '6'));
    await new Promise((r) => setTimeout(r, 3000));
    expect((await tool(net, 'produce', '--url', 'stomp://front-door:61610', '--destination', '/queue/orders', '--count', '200')).out).toMatch(/Produced 200 messages/);
    const counts = (await Promise.all(consumers)).map((c) => Number(/Consumed (\d+) messages/.exec(c.out)?.[1] ?? -1));
    expect(counts[0] + counts[1]).toBe(200);
  }, 300_000);
});

/**
 * docker/Dockerfile and docker/compose/*.yml, built and run for real. No
 * registry is reachable, so ../shared/tools/docker-node-base.sh (when it is
 * there) first starts a Docker engine and builds the local
 * node:20-bookworm-slim base image. Skipped, saying why, only where no engine
 * can run at all.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/broker.js';
import { freePortRange, runCli } from '../helpers/process.js';

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

class Compose {
  readonly project = `amqsim${process.pid}${Math.floor(Math.random() * 1e6)}`;
  constructor(
    private readonly file: string,
    private readonly env: Record<string, string>,
  ) {}

  async run(...args: string[]): Promise<string> {
    const r = await run('docker-compose', ['-p', this.project, '-f', join(ROOT, 'docker', 'compose', this.file), ...args], { env: { ...process.env, ...this.env } });
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

describe('docker-compose topologies', () => {
  it('network.yml: produced on broker1, consumed on broker2 and broker3 through the published ports', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const stomp = await freePortRange(3);
    const admin = await freePortRange(3);
    // Credentials and the bridge secret reach every container from the environment.
    const env: Record<string, string> = { AMQ_SIM_ADMIN_PASSWORD: 'compose-test-password', AMQ_SIM_BRIDGE_SECRET: `secret-${process.pid}` };
    for (let i = 0; i < 3; i++) {
      env[`BROKER${i + 1}_STOMP_PORT`] = String(stomp + i);
      env[`BROKER${i + 1}_ADMIN_PORT`] = String(admin + i);
    }
    const stack = new Compose('network.yml', env);
    stacks.push(stack);
    await stack.run('up', '-d', '--build');
    for (const service of ['broker2', 'broker3']) {
      await eventually(async () => /\(broker1\) has been established\./.test(await stack.logs(service)), 60_000, `${service} bridged to broker1`);
    }
    const consuming = consumeEach([`stomp://127.0.0.1:${stomp + 1}`, `stomp://127.0.0.1:${stomp + 2}`], 4);
    await new Promise((r) => setTimeout(r, 1500));
    await produce(`stomp://127.0.0.1:${stomp}`, 300);
    const got = await consuming;
    const numbers = got.flat().map((b) => Number(/^test message: (\d+)$/.exec(b)![1]));
    expect(numbers.sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (const g of got) expect(g.length).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${admin}/health`).then((r) => r.json());
    expect(health).toMatchObject({ ok: true, role: 'master' });
    expect((await fetch(`http://127.0.0.1:${admin + 1}/api/status`)).status).toBe(401);
    const basic = `Basic ${Buffer.from('admin:compose-test-password').toString('base64')}`;
    const status = (await fetch(`http://127.0.0.1:${admin + 1}/api/status`, { headers: { authorization: basic } }).then((r) => r.json())) as { brokerName: string };
    expect(status.brokerName).toBe('broker2');
    await stack.down();
  }, 300_000);

  it('master-slave.yml: kill the master container; the slave takes the lock on the shared volume and serves the stored messages', async (ctx) => {
    if (unavailable) return ctx.skip(unavailable);
    const stomp = await freePortRange(2);
    const admin = await freePortRange(2);
    const stack = new Compose('master-slave.yml', {
      LOCK_POLL: '1000',
      BROKER1_STOMP_PORT: String(stomp),
      BROKER2_STOMP_PORT: String(stomp + 1),
      BROKER1_ADMIN_PORT: String(admin),
      BROKER2_ADMIN_PORT: String(admin + 1),
    });
    stacks.push(stack);
    await stack.run('up', '-d', '--build');
    await eventually(async () => /now in slave mode waiting a lock to be acquired/.test(await stack.logs('broker2')), 60_000, 'broker2 in slave mode');
    await produce(`stomp://127.0.0.1:${stomp}`, 200);
    await stack.run('kill', 'broker1');
    await eventually(async () => /Lock acquired on \/data\/kahadb\/lock after waiting/.test(await stack.logs('broker2')), 60_000, 'broker2 takes the lock');
    const [bodies] = await consumeEach([`stomp://127.0.0.1:${stomp + 1}`], 3);
    expect(new Set(bodies).size).toBe(200);
    expect(await stack.logs('broker2')).toMatch(/Recovery replayed \d+ operations from the journal/);
    await stack.down();
  }, 300_000);
});

/** Brokers under test: amq-sim as a child process, and Apache ActiveMQ 5.17 (Debian's `activemq`) when installed. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { SyncStrategy } from '../src/store/sync-policy.js';

export interface BrokerTarget {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number;
  /** Resident set size in bytes. */
  rss(): number;
  stop(): Promise<void>;
  /** Kills without a clean shutdown (crash tests). */
  kill(): Promise<void>;
  /** The last lines the broker printed. */
  output(): string;
}

export interface TargetOptions {
  persistent: boolean;
  /** Store directory; created fresh unless `keepStore`. */
  storeDir: string;
  keepStore?: boolean;
  /** Extra broker flags (amq-sim) or XML attributes (ActiveMQ kahaDB). */
  syncStrategy?: SyncStrategy;
  /** Open-file limit for the broker process (ulimit -n). */
  fileLimit?: number;
  /** Resolve at once instead of when the broker listens (a slave does not listen). */
  noWait?: boolean;
  /** The port to listen on (default: a free one). */
  port?: number;
  /** Slave lock poll, ms (ActiveMQ lockAcquireSleepInterval). */
  lockPoll?: number;
  /** Distinguishes two instances of one broker kind sharing a store. */
  instance?: string;
  /** amq-sim: network connector URIs. ActiveMQ: hub OpenWire ports to make duplex network connectors to. */
  network?: string[];
  /** ActiveMQ: also listen for OpenWire (network connectors) on this port. */
  openwirePort?: number;
  /** The memory limit (systemUsage memoryUsage), as ActiveMQ writes sizes: '16 mb'. Default: 512 mb for both. */
  memoryLimit?: string;
  /** schedulerSupport (ActiveMQ's job scheduler). */
  schedulerSupport?: boolean;
}

const CLK_TCK = 100;

function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function procRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}\n${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`broker did not listen on ${port} within ${timeoutMs} ms\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function wrap(name: string, port: number, child: ChildProcess, pid: () => number, output: () => string): BrokerTarget {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    port,
    get pid() {
      return pid();
    },
    output,
    cpuSeconds: () => procCpuSeconds(pid()),
    rss: () => procRss(pid()),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000).unref())]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function withFileLimit(cmd: string[], limit: number | undefined): string[] {
  if (!limit) return cmd;
  return ['/bin/sh', '-c', `ulimit -n ${limit} && exec "$@"`, 'sh', ...cmd];
}

// Run from dist/bench (npm run bench) or from the sources (a test importing a scenario): the CLI is the built one either way.
const CLI = new URL(import.meta.url.includes('/dist/') ? '../bin/amq-sim.js' : '../dist/bin/amq-sim.js', import.meta.url).pathname;

export async function startAmqSim(o: TargetOptions, extraArgs: string[] = []): Promise<BrokerTarget> {
  const port = o.port ?? (await freePort());
  if (!o.keepStore) rmSync(o.storeDir, { recursive: true, force: true });
  const args = [CLI, 'broker', '--name', o.instance ?? 'bench', '--stomp', `stomp://127.0.0.1:${port}`, '--log-level', 'info', '--log-format', 'json'];
  if (o.persistent) args.push('--store', o.storeDir);
  else args.push('--no-persistent');
  if (o.syncStrategy) args.push('--journal-disk-sync-strategy', o.syncStrategy);
  if (o.lockPoll) args.push('--lock-poll', String(o.lockPoll));
  if (o.memoryLimit) args.push('--memory-limit', o.memoryLimit);
  if (o.schedulerSupport) args.push('--scheduler-support');
  for (const n of o.network ?? []) args.push('--network', n);
  args.push(...extraArgs);
  const cmd = withFileLimit([process.execPath, ...args], o.fileLimit);
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  if (!o.noWait) await waitForPort(port, child, 120_000, () => out);
  return wrap('amq-sim', port, child, () => child.pid!, () => out);
}

export const ACTIVEMQ_JAR = '/usr/share/activemq/bin/activemq.jar';

export function activemqInstalled(): boolean {
  return existsSync(ACTIVEMQ_JAR);
}

/** ActiveMQ 5.17 with one STOMP connector and KahaDB (sync strategy as asked; default always). */
export async function startActiveMQ(o: TargetOptions): Promise<BrokerTarget> {
  const port = o.port ?? (await freePort());
  const base = join(o.storeDir, '..', `activemq-instance${o.instance ? `-${o.instance}` : ''}`);
  if (!o.keepStore) rmSync(o.storeDir, { recursive: true, force: true });
  mkdirSync(join(base, 'conf'), { recursive: true });
  const sync = o.syncStrategy ?? 'always';
  writeFileSync(
    join(base, 'conf', 'activemq.xml'),
    `<beans xmlns="http://www.springframework.org/schema/beans" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans.xsd http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="bench" dataDirectory="${base}/data" persistent="${o.persistent}" schedulerSupport="${o.schedulerSupport ?? false}">
    <persistenceAdapter><kahaDB directory="${o.storeDir}" journalDiskSyncStrategy="${sync}">${o.lockPoll ? `<locker><shared-file-locker lockAcquireSleepInterval="${o.lockPoll}"/></locker>` : ''}</kahaDB></persistenceAdapter>
    <systemUsage><systemUsage>
      <memoryUsage><memoryUsage limit="${o.memoryLimit ?? '512 mb'}"/></memoryUsage>
      <storeUsage><storeUsage limit="20 gb"/></storeUsage>
      <tempUsage><tempUsage limit="10 gb"/></tempUsage>
    </systemUsage></systemUsage>
    ${(o.network ?? []).length > 0 ? `<networkConnectors>${o.network!.map((uri) => `<networkConnector uri="${uri}" duplex="true"/>`).join('')}</networkConnectors>` : ''}
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp+nio://127.0.0.1:${port}?transport.closeAsync=false"/>
      ${o.openwirePort ? `<transportConnector name="openwire" uri="tcp://127.0.0.1:${o.openwirePort}"/>` : ''}
    </transportConnectors>
  </broker>
</beans>
`,
  );
  const cmd = withFileLimit(
    [
      'java',
      '-Xms1g',
      '-Xmx1g',
      '-Dactivemq.home=/usr/share/activemq',
      `-Dactivemq.base=${base}`,
      `-Dactivemq.conf=${base}/conf`,
      `-Dactivemq.data=${base}/data`,
      '-jar',
      ACTIVEMQ_JAR,
      'start',
      `xbean:file:${base}/conf/activemq.xml`,
    ],
    o.fileLimit,
  );
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: base });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  if (!o.noWait) await waitForPort(port, child, 120_000, () => out);
  return wrap('ActiveMQ 5.17', port, child, () => child.pid!, () => out);
}

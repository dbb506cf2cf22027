import type { Argv } from 'yargs';
import type { NetworkStatus } from '../network/connectors.js';
import { adminError } from '../errors.js';
import { textTable } from './text-table.js';
import type { BrokerStatus } from '../broker/status.js';

export interface AdminArgs {
  admin: string;
  json?: boolean;
}

export function adminOption<T>(y: Argv<T>): Argv<T & AdminArgs> {
  return y.option('admin', {
    type: 'string',
    default: 'http://127.0.0.1:8161',
    describe: "The broker's admin endpoint (amq-sim broker --admin ...); credentials as http://user:password@host:port, or from AMQ_SIM_ADMIN_USER and AMQ_SIM_ADMIN_PASSWORD",
  }) as unknown as Argv<T & AdminArgs>;
}

/** `http://user:pw@host:port` + `/api/status` → the URL without credentials, and the HTTP Basic header they make (else the environment's). */
function request(admin: string, path: string): { url: string; headers: Record<string, string> } {
  let u: URL;
  try {
    u = new URL(admin);
  } catch {
    throw adminError(400, 'ADMIN_BAD_REQUEST', `not an admin endpoint URL: ${admin}`);
  }
  const user = u.username ? decodeURIComponent(u.username) : process.env.AMQ_SIM_ADMIN_USER;
  const password = u.username ? decodeURIComponent(u.password) : process.env.AMQ_SIM_ADMIN_PASSWORD;
  u.username = '';
  u.password = '';
  const headers: Record<string, string> = user ? { authorization: `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}` } : {};
  return { url: `${u.origin}${u.pathname.replace(/\/$/, '')}${path}`, headers };
}

async function call(admin: string, path: string, init: RequestInit = {}): Promise<unknown> {
  const { url, headers } = request(admin, path);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } });
  } catch (err) {
    const cause = (err as Error & { cause?: NodeJS.ErrnoException }).cause;
    const reason = cause?.message ?? (err as Error).message;
    const hint =
      cause?.code === 'ECONNREFUSED'
        ? '. Nothing answers there: is the broker running, and was it started with --admin (amq-sim broker has no admin endpoint unless given one; amq-sim cluster prints each broker\'s)?'
        : '';
    throw adminError(503, 'ADMIN_UNREACHABLE', url, reason + hint);
  }
  const body = (await res.json()) as { error?: string };
  if (!res.ok) throw adminError(res.status, 'ADMIN_BAD_REQUEST', body.error ?? `${res.status} ${res.statusText}`);
  return body;
}


/** `amq-sim status`: the broker's role, connectors, destinations and bridges. */
export async function runStatus(args: AdminArgs): Promise<void> {
  const s = (await call(args.admin, '/api/status')) as Record<string, unknown> & {
    queues: Array<{ name: string; pending: number; inStore: number; consumers: number; enqueued: number; dequeued: number }>;
    usage: Record<'memory' | 'store' | 'temp', { used: number; limit: number; percent: number }>;
    network?: NetworkStatus;
    scheduler?: { jobs: number; nextRun: string | null; fired: number } | null;
  };
  if (args.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const out: string[] = [`${s.brokerName} (${s.brokerId}) ${s.role}, up ${s.uptimeSeconds} s, ${s.connections} connections`];
  if (s.usage) {
    out.push('', textTable([['usage', 'used', 'limit', '%'], ...(['memory', 'store', 'temp'] as const).map((k) => [k, formatBytes(s.usage[k].used), formatBytes(s.usage[k].limit), `${s.usage[k].percent}%`])]));
  }
  if (s.queues.length > 0) {
    out.push('', textTable([['queue', 'pending', 'in store only', 'consumers', 'enqueued', 'dequeued'], ...s.queues.map((q) => [q.name, String(q.pending), String(q.inStore), String(q.consumers), String(q.enqueued), String(q.dequeued)])]));
  }
  if (s.scheduler) out.push('', `scheduler: ${s.scheduler.jobs} jobs waiting, next run ${s.scheduler.nextRun ?? '-'}, ${s.scheduler.fired} fired`);
  const bridges = s.network?.bridges ?? [];
  if (bridges.length > 0) {
    out.push(
      '',
      textTable([
        ['bridge', 'remote', 'state', 'since', 'forwarded', 'acked', 'in flight', 'received', 'last activity', 'demand'],
        ...bridges.map((b) => [
          b.name,
          b.remoteBrokerName ?? '-',
          b.state + (b.fault ? ` (${b.fault.kind})` : ''),
          b.since,
          String(b.forwarded),
          String(b.acknowledged),
          String(b.inFlight),
          String(b.received),
          b.lastActivity ?? '-',
          [...b.demand.forwarding.map((d) => `→${d.destination}`), ...b.demand.pulling.map((d) => `←${d.destination}`)].join(' ') || '-',
        ]),
      ]),
    );
  }
  const inbound = s.network?.inbound ?? [];
  if (inbound.length > 0) {
    out.push('', textTable([['bridge from', 'address', 'duplex', 'since'], ...inbound.map((b) => [b.remoteBrokerName, b.remoteAddress, String(b.createdByDuplex), b.since])]));
  }
  process.stdout.write(out.join('\n') + '\n');
}

export interface BridgeArgs extends AdminArgs {
  action: string;
  bridge?: string;
  ms?: number;
}

/** `amq-sim bridge stall|cut|delay|heal`: fault injection on a running broker's bridges. */
export async function runBridgeFault(args: BridgeArgs): Promise<void> {
  const body: Record<string, string> = {};
  if (args.bridge) body.bridge = args.bridge;
  if (args.ms !== undefined) body.ms = String(args.ms);
  const result = (await call(args.admin, `/api/network/${args.action}`, post(body))) as { results: string[] };
  process.stdout.write(result.results.join('\n') + '\n');
}

/** `amq-sim fault kill|freeze|resume|restart <broker>`: a process fault through the cluster view of `amq-sim cluster`. */
export async function runFault(args: { cluster: string; action: string; broker: string }): Promise<void> {
  const result = (await call(args.cluster, `/api/cluster/${args.action}`, post({ broker: args.broker }))) as { results: string[] };
  process.stdout.write(result.results.join('\n') + '\n');
}

/** `amq-sim dstat`: ActiveMQ's `activemq dstat`, one line per destination. */
export async function runDstat(args: AdminArgs & { type?: string }): Promise<void> {
  const s = (await call(args.admin, '/api/status')) as BrokerStatus;
  const type = args.type ?? 'all';
  const rows = [['Name', 'Queue Size', 'Consumer #', 'Enqueue #', 'Dequeue #', 'Memory']];
  if (type === 'all' || type === 'queues') for (const q of s.queues) rows.push([q.name, String(q.pending), String(q.consumers), String(q.enqueued), String(q.dequeued), formatBytes(q.memory)]);
  if (type === 'all' || type === 'topics') for (const t of s.topics) rows.push([`topic://${t.name}`, '-', String(t.subscriptions), String(t.enqueued), '-', '-']);
  process.stdout.write(textTable(rows) + '\n');
}

/** `amq-sim browse`: the messages of a queue, as ActiveMQ's `activemq browse` shows them, without taking them. */
export async function runBrowse(args: AdminArgs & { destination: string; max?: number }): Promise<void> {
  const body: Record<string, string> = { queue: args.destination };
  if (args.max !== undefined) body.max = String(args.max);
  const r = (await call(args.admin, '/api/broker/browse', post(body))) as { messages: Array<{ messageId: string; headers: Record<string, string>; body: string; encoding: string; persistent: boolean; priority: number; timestamp: number }> };
  if (args.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  for (const m of r.messages) {
    const headers = Object.entries(m.headers).map(([k, v]) => `${k}=${v}`).join(' ');
    process.stdout.write(`${m.messageId} priority=${m.priority} persistent=${m.persistent} timestamp=${new Date(m.timestamp).toISOString()}${headers ? ' ' + headers : ''}\n  ${m.encoding === 'utf8' ? m.body : `(base64) ${m.body}`}\n`);
  }
  process.stdout.write(`${r.messages.length} messages\n`);
}

/** `amq-sim why`: why the messages of a queue are not moving, in plain words. */
export async function runWhy(args: AdminArgs & { destination: string }): Promise<void> {
  const d = (await call(args.admin, '/api/broker/why', post({ destination: args.destination }))) as { destination: string; pending: number; consumers: { local: number; network: number }; findings: string[] };
  if (args.json) {
    process.stdout.write(JSON.stringify(d, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${d.destination}: ${d.pending} pending, ${d.consumers.local} local and ${d.consumers.network} network consumers\n${d.findings.map((f) => `- ${f}`).join('\n')}\n`);
}

/** `amq-sim purge`: ActiveMQ's `activemq purge`. */
export async function runPurge(args: AdminArgs & { destination: string }): Promise<void> {
  const r = (await call(args.admin, '/api/broker/purge', post({ queue: args.destination }))) as { purged: number };
  process.stdout.write(`Purged ${r.purged} messages from ${args.destination}\n`);
}

export interface SchedulerArgs extends AdminArgs {
  action: 'browse' | 'remove' | 'remove-all';
  jobId?: string;
  start?: string;
  end?: string;
  max?: number;
}

/** `amq-sim scheduler browse|remove|remove-all`: ActiveMQ's job scheduler operations (its JobSchedulerView), on a running broker. */
export async function runScheduler(args: SchedulerArgs): Promise<void> {
  const body: Record<string, string> = {};
  if (args.start !== undefined) body.start = args.start;
  if (args.end !== undefined) body.end = args.end;
  if (args.action === 'remove') {
    if (!args.jobId) throw adminError(400, 'ADMIN_BAD_REQUEST', 'amq-sim scheduler remove needs the job id (scheduledJobId), as `amq-sim scheduler browse` shows it');
    const r = (await call(args.admin, '/api/broker/remove-scheduled', post({ jobId: args.jobId }))) as { removed: string };
    process.stdout.write(`Removed scheduled job ${r.removed}\n`);
    return;
  }
  if (args.action === 'remove-all') {
    const r = (await call(args.admin, '/api/broker/remove-all-scheduled', post(body))) as { removed: number };
    process.stdout.write(`Removed ${r.removed} scheduled jobs\n`);
    return;
  }
  if (args.max !== undefined) body.max = String(args.max);
  const r = (await call(args.admin, '/api/broker/scheduled', post(body))) as { jobs: Array<{ jobId: string; destination: string; nextRun: string; delay: number; period: number; repeat: number; cron: string; message: { messageId: string } }> };
  if (args.json) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return;
  }
  const rows = [['Job', 'Next run', 'Destination', 'Delay', 'Period', 'Repeat', 'Cron', 'Message']];
  for (const j of r.jobs) rows.push([j.jobId, j.nextRun, j.destination, String(j.delay), String(j.period), String(j.repeat), j.cron || '-', j.message.messageId]);
  process.stdout.write(textTable(rows) + `\n${r.jobs.length} scheduled jobs\n`);
}

function post(body: Record<string, string>): RequestInit {
  return { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
}

/** Bytes for people: `512.0 MiB`. */
function formatBytes(bytes: number): string {
  if (bytes === null || !Number.isFinite(bytes)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

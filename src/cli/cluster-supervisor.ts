/**
 * Runs each broker of a cluster as its own child process (`amq-sim broker
 * --config FILE`), prefixes its log lines with its name, and stops them all.
 * The simulator's process faults act on them: kill -9, freeze and resume
 * (SIGSTOP/SIGCONT), restart; each is logged with the broker's prefix.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogRecord, type LogFormat, type LogLevel } from '../config/logger.js';
import { adminError } from '../errors.js';

const CLI = fileURLToPath(new URL('../../bin/amq-sim.js', import.meta.url));
/** A broker is up once it serves (ActiveMQ's "… started") or waits for the store lock as a slave. */
const UP = /^amq-sim \S+ \(.*\) started$|now in slave mode/;
/** A broker serves clients from its "started" line until it stops or gives up the lock. */
const SERVING = /^amq-sim \S+ \(.*\) started$/;
const NOT_SERVING = /giving up being a master|\) is shutting down$/;
const STOP_GRACE_MS = 10_000;
const COLORS = [36, 33, 35, 32, 34, 31];

export interface ChildBroker {
  name: string;
  configFile: string;
}

export interface SupervisorOptions {
  logLevel: LogLevel;
  logFormat: LogFormat;
  out: NodeJS.WritableStream;
  color: boolean;
}

interface Running {
  name: string;
  process: ChildProcess;
  exited: Promise<void>;
  frozen: boolean;
}

/** What the cluster view shows of a broker's process. */
export type ProcessState = 'running' | 'frozen' | 'exited';

export const PROCESS_FAULTS = ['kill', 'freeze', 'resume', 'restart'] as const;
export type ProcessFault = (typeof PROCESS_FAULTS)[number];

export class ClusterSupervisor {
  /** The current process of each broker, by name. */
  private readonly running = new Map<string, Running>();
  private readonly serving = new Set<string>();
  private readonly width: number;
  private stopping = false;

  constructor(
    private readonly brokers: ChildBroker[],
    private readonly o: SupervisorOptions,
  ) {
    this.width = Math.max(...brokers.map((b) => b.name.length));
  }

  get pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running.values()].map((r) => [r.name, r.process.pid]));
  }

  /** Whether a broker serves clients now (a master, or a broker without a lock): what the front door follows. */
  isServing(name: string): boolean {
    return this.serving.has(name) && this.processState(name).state === 'running';
  }

  processState(name: string): { pid: number | undefined; state: ProcessState } {
    const r = this.running.get(name);
    if (!r || !alive(r)) return { pid: r?.process.pid, state: 'exited' };
    return { pid: r.process.pid, state: r.frozen ? 'frozen' : 'running' };
  }

  /** A process fault on one broker, as `amq-sim fault` and the cluster view ask for it. */
  async fault(name: string, fault: ProcessFault): Promise<string> {
    const index = this.brokers.findIndex((b) => b.name === name);
    const r = this.running.get(name);
    if (index < 0 || !r) throw adminError(404, 'ADMIN_NOT_FOUND', `No broker '${name}' in this cluster (${this.brokers.map((b) => b.name).join(', ')})`);
    const prefix = this.prefix(name, index);
    if (fault === 'restart') {
      this.print(prefix, 'fault: restart (SIGTERM, then started again)');
      await this.terminate(r);
      r.frozen = false;
      // Up as master or as a waiting slave; a broker that exits at once is reported by its own lines.
      await this.spawn(this.brokers[index], index).catch(() => undefined);
      return `${name} restarted (pid ${this.running.get(name)!.process.pid})`;
    }
    if (!alive(r)) throw adminError(409, 'ADMIN_NOT_SERVING', `exited: ${name} has no process to ${fault}; restart it`);
    const signal = ({ kill: 'SIGKILL', freeze: 'SIGSTOP', resume: 'SIGCONT' } as const)[fault];
    this.print(prefix, `fault: ${fault} (${signal} to pid ${r.process.pid})`);
    r.process.kill(signal);
    r.frozen = fault === 'freeze';
    return `${name}: ${signal} sent to pid ${r.process.pid}`;
  }

  /** SIGTERM (SIGCONT first, a frozen process cannot stop), SIGKILL after the grace period. */
  private async terminate(r: Running): Promise<void> {
    if (!alive(r)) return;
    if (r.frozen) r.process.kill('SIGCONT');
    r.process.kill('SIGTERM');
    const timer = setTimeout(() => alive(r) && r.process.kill('SIGKILL'), STOP_GRACE_MS);
    await r.exited;
    clearTimeout(timer);
  }

  /** Starts the brokers in order, each once the one before is up, so the first of a store group is its master. */
  async start(): Promise<void> {
    for (const [i, b] of this.brokers.entries()) {
      if (this.stopping) return;
      await this.spawn(b, i);
    }
  }

  private spawn(b: ChildBroker, index: number): Promise<void> {
    const child = spawn(process.execPath, [CLI, 'broker', '--config', b.configFile, '--log-format', 'json', '--log-level', this.o.logLevel], {
      // The IPC channel carries nothing: its closing tells the broker that the cluster process is gone.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A group of its own: Ctrl-C in the terminal reaches the cluster process only, which stops each broker once
      // (a broker that got the terminal's SIGINT and then the cluster's SIGTERM would take it as a second, forcing signal).
      detached: true,
    });
    const prefix = this.prefix(b.name, index);
    let up!: () => void;
    let failed!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      up = resolve;
      failed = reject;
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let record: Record<string, unknown> | null = null;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        /* not a log record: printed as it is */
      }
      const msg = record ? String(record.msg) : '';
      if (UP.test(msg)) up();
      if (SERVING.test(msg)) this.serving.add(b.name);
      else if (NOT_SERVING.test(msg)) this.serving.delete(b.name);
      this.print(prefix, record && this.o.logFormat === 'pretty' ? formatLogRecord(record) : line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.print(prefix, line));
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        this.serving.delete(b.name);
        this.print(prefix, signal ? `exited: killed by ${signal}` : `exited with status ${code}`);
        failed(new Error(`${b.name} exited before it was up (${signal ?? `status ${code}`}); see its log lines above`));
        resolve();
      });
    });
    this.running.set(b.name, { name: b.name, process: child, exited, frozen: false });
    return ready;
  }

  private prefix(name: string, index: number): string {
    const label = `[${name}]`.padEnd(this.width + 2);
    return this.o.color ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m` : label;
  }

  private print(prefix: string, text: string): void {
    this.o.out.write(this.o.logFormat === 'json' && text.startsWith('{') ? `${text}\n` : `${prefix} ${text}\n`);
  }

  /** Resolves when every broker has exited (stopped, crashed or killed by the user) and none was restarted meanwhile. */
  async allExited(): Promise<void> {
    for (;;) {
      const current = [...this.running.values()];
      await Promise.all(current.map((r) => r.exited));
      if ([...this.running.values()].every((r) => current.includes(r))) return;
    }
  }

  /** SIGTERM to every broker still running, SIGKILL to any that has not exited after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()].map((r) => this.terminate(r)));
  }
}

function alive(r: Running): boolean {
  return r.process.exitCode === null && r.process.signalCode === null;
}

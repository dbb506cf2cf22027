/**
 * Runs each broker of a cluster as its own child process (`amq-sim broker
 * --config FILE`), prefixes its log lines with its name, and stops them all.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { formatLogRecord, type LogFormat, type LogLevel } from '../config/logger.js';

const CLI = fileURLToPath(new URL('../../bin/amq-sim.js', import.meta.url));
/** A broker is up once it serves (ActiveMQ's "… started") or waits for the store lock as a slave. */
const UP = /^amq-sim \S+ \(.*\) started$|now in slave mode/;
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
}

export class ClusterSupervisor {
  private readonly running: Running[] = [];
  private readonly width: number;
  private stopping = false;

  constructor(
    private readonly brokers: ChildBroker[],
    private readonly o: SupervisorOptions,
  ) {
    this.width = Math.max(...brokers.map((b) => b.name.length));
  }

  get pids(): Record<string, number | undefined> {
    return Object.fromEntries(this.running.map((r) => [r.name, r.process.pid]));
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
      if (record && UP.test(String(record.msg))) up();
      this.print(prefix, record && this.o.logFormat === 'pretty' ? formatLogRecord(record) : line);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.print(prefix, line));
    const exited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => {
        this.print(prefix, signal ? `exited: killed by ${signal}` : `exited with status ${code}`);
        failed(new Error(`${b.name} exited before it was up (${signal ?? `status ${code}`}); see its log lines above`));
        resolve();
      });
    });
    this.running.push({ name: b.name, process: child, exited });
    return ready;
  }

  private prefix(name: string, index: number): string {
    const label = `[${name}]`.padEnd(this.width + 2);
    return this.o.color ? `\x1b[${COLORS[index % COLORS.length]}m${label}\x1b[0m` : label;
  }

  private print(prefix: string, text: string): void {
    this.o.out.write(this.o.logFormat === 'json' && text.startsWith('{') ? `${text}\n` : `${prefix} ${text}\n`);
  }

  /** Resolves when every broker has exited (stopped, crashed or killed by the user). */
  async allExited(): Promise<void> {
    await Promise.all(this.running.map((r) => r.exited));
  }

  /** SIGTERM to every broker still running, SIGKILL to any that has not exited after the grace period. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running) if (r.process.exitCode === null && r.process.signalCode === null) r.process.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const r of this.running) if (r.process.exitCode === null && r.process.signalCode === null) r.process.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await this.allExited();
    clearTimeout(timer);
  }
}

import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach } from 'vitest';

export const CLI = new URL('../../dist/bin/amq-sim.js', import.meta.url).pathname;

export interface LogLine {
  level: number;
  msg: string;
  broker?: string;
  time: number;
  [key: string]: unknown;
}

/** A running `amq-sim` child process with its JSON log lines collected. */
export class CliProcess {
  readonly logs: LogLine[] = [];
  readonly stdoutText: string[] = [];
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private readonly exited: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    let buffered = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.stdoutText.push(line);
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          /* not a log line */
        }
        this.wake();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.wake();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- stdout ---\n${this.stdoutText.slice(-30).join('\n')}\n--- stderr ---\n${this.stderr.slice(-2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for a log line whose message matches, counting from line `from`. */
  waitForLog(pattern: RegExp, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    return this.until(() => this.logs.slice(from).find((l) => pattern.test(l.msg)), timeoutMs, `log ${pattern}`);
  }

  waitForOutput(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return this.until(() => this.stdoutText.find((l) => pattern.test(l)), timeoutMs, `output ${pattern}`);
  }

  /** The port of the first connector of a scheme, from its "Listening for connections at" line. */
  async port(scheme = 'stomp', timeoutMs = 15_000): Promise<number> {
    const line = await this.waitForLog(new RegExp(`^Listening for connections at: ${scheme.replace('+', '\\+')}://`), timeoutMs);
    return Number(/:(\d+)(\?|$)/.exec(line.msg)![1]);
  }

  async waitExit(timeoutMs = 15_000): Promise<number | null> {
    await Promise.race([this.exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`process ${this.pid} did not exit within ${timeoutMs} ms\n${this.stdoutText.slice(-20).join('\n')}`)), timeoutMs))]);
    return this.exitCode;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.proc.kill(sig);
  }

  /** A signal to the process's whole group (it must run in its own: runCli's `ownGroup`), as a terminal's Ctrl-C. */
  signalGroup(sig: NodeJS.Signals): void {
    if (this.running) process.kill(-this.pid, sig);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

const spawned: CliProcess[] = [];

/**
 * Runs `node dist/bin/amq-sim.js ...args` with JSON logs; killed after the test. `ownGroup`: in a process group of
 * its own, as a shell's foreground job, so that a test can signal the group as a terminal's Ctrl-C does.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, ownGroup = false): CliProcess {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: ownGroup });
  const p = new CliProcess(proc);
  spawned.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(spawned.splice(0).map((p) => p.kill()));
});

/** Ports for brokers whose port must be known before they listen: below Linux's ephemeral range (32768–60999). */
const TEST_PORTS = { from: 10_000, to: 30_000 };
/**
 * Ports Docker publishes: a band of their own, which no other test picks
 * from, since a compose project binds its ports only after its image is
 * built (seconds after they were found free).
 */
export const DOCKER_PORTS = { from: 30_000, to: 32_700 };

/**
 * A port that was free a moment ago (for brokers whose port must be known before they listen, such as slaves).
 * Taken below Linux's ephemeral range, where the kernel picks ports for other tests' outgoing connections and
 * port-0 listeners: a port from there could be handed to one of them before the broker binds it.
 */
export async function freePort(): Promise<number> {
  return freePortRange(1);
}

/** Whether something accepts TCP connections on the port now. */
export async function accepting(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** `n` consecutive ports that were free a moment ago (for `amq-sim cluster --base-port`), from `band`. */
export async function freePortRange(n: number, band = TEST_PORTS): Promise<number> {
  for (;;) {
    const base = band.from + Math.floor(Math.random() * (band.to - band.from - n));
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
}

async function portFree(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

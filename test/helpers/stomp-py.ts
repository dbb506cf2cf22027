import { execFile } from 'node:child_process';

const SCRIPT = new URL('../interop/fixtures/stomp_py_scheduler.py', import.meta.url).pathname;

/** Runs a scenario of test/interop/fixtures/stomp_py_scheduler.py (stomp.py, Debian python3-stomp) against a broker; its JSON result. */
export function stompPy(port: number, ...args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [SCRIPT, String(port), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`stomp.py failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

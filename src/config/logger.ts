import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';
export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const STANDARD_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'broker']);

/** One JSON log record as an ActiveMQ-style line: `time | LEVEL | message | key=value ...`. */
export function formatLogRecord(record: Record<string, unknown>): string {
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().replace('T', ' ').replace('Z', '') : '';
  const level = (LEVEL_NAMES[record.level as number] ?? String(record.level)).padEnd(5);
  const extras = Object.keys(record)
    .filter((k) => !STANDARD_FIELDS.has(k) && !(typeof record[k] !== 'object' && String(record.msg ?? '').includes(String(record[k]))))
    .map((k) => `${k}=${typeof record[k] === 'string' ? record[k] : JSON.stringify(record[k])}`);
  return `${time} | ${level} | ${record.msg ?? ''}${extras.length ? ` | ${extras.join(' ')}` : ''}`;
}

class PrettyStream extends Writable {
  constructor(private readonly out: NodeJS.WritableStream) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      try {
        this.out.write(formatLogRecord(JSON.parse(line)) + '\n');
      } catch {
        this.out.write(line + '\n');
      }
    }
    done();
  }
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const out = options.destination ?? process.stdout;
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const stream = format === 'pretty' ? new PrettyStream(out) : out;
  return pino({ level: options.level ?? 'info', base: { pid: process.pid } }, stream);
}

/** A logger that drops everything: for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

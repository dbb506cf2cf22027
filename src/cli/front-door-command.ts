/**
 * `amq-sim front-door`: the front door of `amq-sim cluster` as a process of
 * its own, for a master/slave pair that runs in containers (compose, swarm)
 * or on other hosts. It asks each broker's admin endpoint whether it is the
 * master (`/health?role=master`, the same readiness check a Kubernetes
 * Service uses) and forwards each new connection to the one that is.
 */
import type { Argv } from 'yargs';
import { createLogger, LOG_LEVELS, type LogFormat, type LogLevel } from '../config/logger.js';
import { configError } from '../errors.js';
import { type FrontDoorTarget, listenFrontDoor } from './front-door.js';
import { numberOption, portOption } from './options.js';

export interface FrontDoorArgs {
  host: string;
  port: number;
  target: string[];
  'health-port': number;
  'poll-ms': number;
  'log-level': LogLevel;
  'log-format'?: LogFormat;
}

export function frontDoorOptions(y: Argv): Argv<FrontDoorArgs> {
  return y
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 in a container)' })
    .option('port', portOption('port', 'Port clients connect to', 61610))
    .option('target', { type: 'string', array: true, demandOption: true, describe: "A broker of the pair, repeatable, in order of preference: stomp://HOST:PORT, or stomp://HOST:PORT?admin=PORT when its admin endpoint is not on --health-port" })
    .option('health-port', portOption('health-port', "Port of each target's admin endpoint, where /health?role=master says whether it serves", 8161))
    .option('poll-ms', numberOption('poll-ms', 'How often each target is asked, in ms', { min: 50, integer: true, default: 500 }))
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as LogLevel, describe: 'Log level' })
    .option('log-format', { choices: ['json', 'pretty'] as const, describe: 'Log format [default: pretty on a terminal, json otherwise]' }) as unknown as Argv<FrontDoorArgs>;
}

interface Target extends FrontDoorTarget {
  healthPort: number;
}

function parseTarget(text: string, healthPort: number): Target {
  const m = /^stomp:\/\/([^:/?]+):(\d+)\/?(?:\?admin=(\d+))?$/.exec(text);
  if (!m) throw configError('CONFIG_BAD_VALUE', '--target', 'stomp://HOST:PORT or stomp://HOST:PORT?admin=PORT', text);
  return { name: `${m[1]}:${m[2]}`, host: m[1], port: Number(m[2]), healthPort: m[3] === undefined ? healthPort : Number(m[3]) };
}

/** Whether the broker on `host` says it is the master now. */
async function serves(host: string, healthPort: number, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}:${healthPort}/health?role=master`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

export async function runFrontDoor(args: FrontDoorArgs): Promise<void> {
  const logger = createLogger({ level: args['log-level'], format: args['log-format'] }).child({ frontDoor: `${args.host}:${args.port}` });
  const targets = args.target.map((t) => parseTarget(t, args['health-port']));
  let current: FrontDoorTarget | null = null;
  const poll = async () => {
    const ready = await Promise.all(targets.map((t) => serves(t.host, t.healthPort, args['poll-ms'])));
    const next = targets.find((_, i) => ready[i]) ?? null;
    if (next === current) return;
    current = next;
    if (next) logger.info({ target: next.name }, `Front door forwards to ${next.name}, the master now`);
    else logger.warn('No broker of the pair serves now: connections get an ERROR until one does');
  };
  await poll();
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void poll().finally(() => (polling = false));
  }, args['poll-ms']);
  const door = await listenFrontDoor(args.host, args.port, () => current);
  logger.info({ port: door.port, targets: targets.map((t) => t.name) }, `Front door listening at stomp://${args.host}:${door.port} for ${targets.map((t) => t.name).join(', ')}`);
  const stop = () => {
    clearInterval(timer);
    void door.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

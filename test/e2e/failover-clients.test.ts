/**
 * Clients failing over between a master/slave pair: amq-sim's own client with
 * ActiveMQ's failover: URI, and the recipes docs/master-slave.md gives for
 * @stomp/stompjs, stompit and stomp.py, each tried against a real pair.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import stompit from 'stompit';
import { describe, it } from 'vitest';
import { StompClient } from '../../src/client/index.js';
import { eventually, sendUntilReceipted } from '../helpers/broker.js';
import { type CliProcess, freePort, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

interface Pair {
  a: CliProcess;
  b: CliProcess;
  ports: [number, number];
  failoverUri: string;
}

async function pair(): Promise<Pair> {
  const dir = tempDir('fo');
  const config = join(dir, 'locker.json');
  writeFileSync(config, JSON.stringify({ locker: { lockAcquireSleepInterval: 300, lockKeepAlivePeriod: 500, lockStaleTimeout: 2000 } }));
  const ports: [number, number] = [await freePort(), await freePort()];
  const start = (name: string, port: number) =>
    runCli(['broker', '--name', name, '--stomp', `stomp://127.0.0.1:${port}`, '--store', join(dir, 'kahadb'), '--config', config, '--log-format', 'json']);
  const a = start('A', ports[0]);
  await a.waitForLog(/\(A, .*\) started$/);
  const b = start('B', ports[1]);
  await b.waitForLog(/slave mode/);
  return { a, b, ports, failoverUri: `failover:(stomp://127.0.0.1:${ports[0]},stomp://127.0.0.1:${ports[1]})?randomize=false&initialReconnectDelay=50&maxReconnectDelay=500` };
}

/** Sends numbered persistent messages through failover, resending any whose receipt the failover swallowed. */
async function produce(producer: StompClient, from: number, to: number): Promise<void> {
  for (let n = from; n < to; n++) await sendUntilReceipted(producer, '/queue/fo', String(n));
}

/** Runs the scenario: 100 messages through the master, kill -9, 100 more through the slave. */
async function failoverScenario(startConsumer: (p: Pair, got: Set<number>) => Promise<() => void | Promise<void>>): Promise<void> {
  const p = await pair();
  const got = new Set<number>();
  const stopConsumer = await startConsumer(p, got);
  const producer = await StompClient.connect(p.failoverUri);
  try {
    await produce(producer, 0, 100);
    await eventually(() => got.size === 100, 10_000, 'the first 100 through the master');
    await p.a.kill();
    await p.b.waitForLog(/\(B, .*\) started$/, 10_000);
    await produce(producer, 100, 200);
    await eventually(() => got.size === 200, 20_000, `the next 100 through the slave (have ${got.size})`);
  } finally {
    producer.destroy();
    await stopConsumer();
  }
}

describe('client failover between a master/slave pair', () => {
  it('amq-sim client: failover:(...) URI, re-subscribes after reconnecting', async () => {
    await failoverScenario(async (p, got) => {
      const c = await StompClient.connect(p.failoverUri);
      await c.subscribe('/queue/fo', (m) => {
        got.add(Number(m.text));
        c.ack(m);
      }, { ack: 'client-individual' });
      return () => c.destroy();
    });
  });

  it('@stomp/stompjs: rotate the address in beforeConnect, subscribe in onConnect', async () => {
    await failoverScenario(async (p, got) => {
      let attempt = 0;
      const client = new Client({
        reconnectDelay: 200,
        heartbeatIncoming: 1000,
        heartbeatOutgoing: 1000,
        // One address per attempt, in turn: stompjs has no host list of its own.
        beforeConnect: () => {
          const port = p.ports[attempt++ % p.ports.length];
          client.webSocketFactory = () => new TCPWrapper('127.0.0.1', port);
        },
        onConnect: () => {
          client.subscribe('/queue/fo', (m) => {
            got.add(Number(m.body));
            m.ack();
          }, { ack: 'client-individual' });
        },
      });
      client.activate();
      return () => client.deactivate();
    });
  });

  it('stompit: ConnectFailover with ActiveMQ-style options, subscribe again on every connect', async () => {
    await failoverScenario(async (p, got) => {
      const servers = p.ports.map((port) => ({ host: '127.0.0.1', port, connectHeaders: { host: 'localhost', 'accept-version': '1.1' } }));
      const failover = new (stompit as unknown as { ConnectFailover: new (s: unknown, o: unknown) => StompitFailover }).ConnectFailover(servers, {
        initialReconnectDelay: 50,
        maxReconnectDelay: 500,
        useExponentialBackOff: true,
        maxReconnects: -1,
        randomize: false,
      });
      const connection = failover.connect((err, client, reconnect) => {
        if (err || !client) return;
        client.on('error', () => reconnect());
        client.subscribe({ destination: '/queue/fo', ack: 'client-individual' }, (e, message) => {
          if (e) return;
          message.readString('utf-8', (_, body) => {
            got.add(Number(body));
            client.ack(message);
          });
        });
      });
      return () => connection.abort();
    });
  });

  it('stomp.py: a host list, and reconnect plus re-subscribe in on_disconnected', async () => {
    await failoverScenario(async (p, got) => {
      const child = execFile('/usr/bin/python3', [new URL('../interop/fixtures/stomp_py_failover.py', import.meta.url).pathname, String(p.ports[0]), String(p.ports[1])]);
      let buffer = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffer += d.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (/^\d+$/.test(line)) got.add(Number(line));
        }
      });
      await new Promise((r) => setTimeout(r, 1500));
      return () => {
        child.kill();
      };
    });
  });
});

interface StompitMessage {
  readString(encoding: string, cb: (err: Error | null, body: string) => void): void;
}
interface StompitClient {
  on(event: string, cb: () => void): void;
  subscribe(headers: Record<string, string>, cb: (err: Error | null, message: StompitMessage) => void): void;
  ack(message: StompitMessage): void;
}
interface StompitFailover {
  connect(cb: (err: Error | null, client: StompitClient | undefined, reconnect: () => void) => void): { abort(): void };
}

/**
 * Real client libraries negotiate 1 s heart-beats both ways and then say
 * nothing for 12 s, while two busy processes keep both cores loaded: every
 * one of them must still be connected and able to do a round trip. (ActiveMQ
 * keeps them; a broker that checks silence at exactly the interval drops
 * them, since they all beat a little late, never early.)
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { Client } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import stompit from 'stompit';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startBroker } from '../helpers/broker.js';

const IDLE_SECONDS = 12;
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

const hogs: ChildProcess[] = [];
afterEach(() => {
  for (const h of hogs.splice(0)) h.kill('SIGKILL');
});

function run(cmd: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: (IDLE_SECONDS + 20) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

/** @stomp/stompjs idle, then one round trip; resolves with what it saw. */
function stompjs(factory: () => unknown): Promise<{ disconnects: number; body: string | null }> {
  return new Promise((resolve, reject) => {
    let disconnects = 0;
    const client = new Client({
      webSocketFactory: factory as never,
      heartbeatIncoming: 1000,
      heartbeatOutgoing: 1000,
      reconnectDelay: 0,
      onWebSocketClose: () => disconnects++,
      onStompError: (f) => reject(new Error(f.headers.message)),
      onConnect: () => {
        const queue = `/queue/js-idle-${Math.random()}`;
        let body: string | null = null;
        client.subscribe(queue, (m) => (body = m.body));
        setTimeout(() => {
          if (!client.connected) {
            resolve({ disconnects, body });
            return;
          }
          client.publish({ destination: queue, body: 'still here' });
          setTimeout(() => {
            void client.deactivate();
            resolve({ disconnects, body });
          }, 1000);
        }, IDLE_SECONDS * 1000);
      },
    });
    client.activate();
  });
}

interface StompitClient {
  on(event: string, cb: (e: Error) => void): void;
  send(headers: Record<string, string>): { write(s: string): void; end(): void };
  subscribe(headers: Record<string, string>, cb: (err: Error | null, message: { readString(e: string, cb: (err: Error | null, body: string) => void): void }) => void): void;
  disconnect(): void;
}

function stompitIdle(port: number): Promise<{ errors: string[]; body: string | null }> {
  return new Promise((resolve, reject) => {
    const errors: string[] = [];
    (stompit as unknown as { connect(o: unknown, cb: (e: Error | null, c: StompitClient) => void): void }).connect(
      { host: '127.0.0.1', port, connectHeaders: { host: 'localhost', 'heart-beat': '1000,1000', 'accept-version': '1.1' } },
      (err, client) => {
        if (err) return reject(err);
        client.on('error', (e) => errors.push(e.message));
        let body: string | null = null;
        client.subscribe({ destination: '/queue/stompit-idle' }, (e, message) => {
          if (!e) message.readString('utf-8', (_, b) => (body = b));
        });
        setTimeout(() => {
          const frame = client.send({ destination: '/queue/stompit-idle' });
          frame.write('still here');
          frame.end();
          setTimeout(() => {
            client.disconnect();
            resolve({ errors, body });
          }, 1000);
        }, IDLE_SECONDS * 1000);
      },
    );
  });
}

describe('heart-beats with real client libraries, idle under load', () => {
  it('keeps stomp.py 1.1 and 1.2, stompjs over TCP and WebSocket, stompit and the Ruby gem connected at 1 s heart-beats', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0', 'ws://127.0.0.1:0'] });
    const port = broker.port();
    const wsPort = broker.port('ws');
    for (let i = 0; i < 2; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    const [py11, py12, ruby, tcp, ws, sit] = await Promise.all([
      run('/usr/bin/python3', [fixture('stomp_py_idle.py'), String(port), '1.1', String(IDLE_SECONDS)]),
      run('/usr/bin/python3', [fixture('stomp_py_idle.py'), String(port), '1.2', String(IDLE_SECONDS)]),
      run('/usr/bin/ruby', [fixture('ruby_idle.rb'), String(port), String(IDLE_SECONDS)]),
      stompjs(() => new TCPWrapper('127.0.0.1', port)),
      stompjs(() => new WebSocket(`ws://127.0.0.1:${wsPort}`, ['v12.stomp', 'v11.stomp'])),
      stompitIdle(port),
    ]);
    for (const py of [py11, py12]) {
      expect(py).toMatchObject({ connected_after_idle: true, disconnected: false, heartbeat_timeouts: 0, errors: [], bodies: ['still here'] });
    }
    expect(ruby).toMatchObject({ connected_after_idle: true, errors: [], bodies: ['still here'] });
    expect(ruby.heartbeats_received as number).toBeGreaterThan(IDLE_SECONDS / 2);
    expect(tcp).toEqual({ disconnects: 0, body: 'still here' });
    expect(ws).toEqual({ disconnects: 0, body: 'still here' });
    expect(sit).toEqual({ errors: [], body: 'still here' });
  }, (IDLE_SECONDS + 30) * 1000);
});

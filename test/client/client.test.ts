import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionLostError, Session, StompClient, StompServerError } from '../../src/client/index.js';
import { eventually, startBroker, trackClient } from '../helpers/broker.js';

const servers: net.Server[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const s of servers.splice(0)) s.close();
});

/** A TCP server that answers CONNECT with `connected`, then says nothing more. */
async function silentServer(connected: string): Promise<number> {
  const server = net.createServer((socket) => socket.once('data', () => socket.write(`CONNECTED\n${connected}\n\n\0`)));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

describe('StompClient', () => {
  it('resolves requests on their RECEIPT and rejects them on ERROR, with the catalogue code', async () => {
    const broker = await startBroker();
    const c = trackClient(await StompClient.connect(`stomp://127.0.0.1:${broker.port()}`));
    await c.sendWithReceipt('/queue/a', 'x');
    const err = await c.request('SEND', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StompServerError);
    expect((err as StompServerError).message).toBe('SEND received without a Destination specified!');
    expect((err as StompServerError).frame.headers['error-code']).toBe('STOMP_SEND_NO_DESTINATION');
  });

  it('fails over to the next broker of a failover: URI and subscribes again', async () => {
    const [a, b] = [await startBroker({ brokerName: 'a' }), await startBroker({ brokerName: 'b' })];
    const c = trackClient(await StompClient.connect(`failover:(stomp://127.0.0.1:${a.port()},stomp://127.0.0.1:${b.port()})?randomize=false&initialReconnectDelay=10`));
    const got: string[] = [];
    await c.subscribe('/queue/fo', (m) => got.push(m.text));
    expect(c.address?.port).toBe(a.port());
    await a.stop();
    await c.whenConnected();
    await eventually(() => c.address?.port === b.port());
    // The subscription is made again on b before anything is sent.
    await eventually(() => b.router.queues.get('queue://fo')?.consumerCount === 1);
    const p = trackClient(await StompClient.connect(`stomp://127.0.0.1:${b.port()}`));
    await p.sendWithReceipt('/queue/fo', 'after');
    await eventually(() => got.includes('after'));
  });

  it('rejects a connect that gets no CONNECTED within connectTimeout', async () => {
    const server = net.createServer(() => {});
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await expect(StompClient.connect(`stomp://127.0.0.1:${port}`, { connectTimeout: 200 })).rejects.toMatchObject({ code: 'CLIENT_CONNECT_TIMEOUT' });
  });
});

describe('Session heart-beats', () => {
  it('declares a broker that stops heart-beating dead after the grace (fake time)', async () => {
    const port = await silentServer('version:1.2\nheart-beat:100,100');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] });
    const session = await Session.open({ scheme: 'stomp', tls: false, host: '127.0.0.1', port, url: `stomp://127.0.0.1:${port}` }, { acceptVersion: '1.2', heartBeat: [100, 100] });
    let closed: Error | null = null;
    session.onClose = (err) => (closed = err);
    await vi.advanceTimersByTimeAsync(190);
    expect(closed).toBeNull();
    await vi.advanceTimersByTimeAsync(100);
    expect(closed).toBeInstanceOf(ConnectionLostError);
    expect((closed as unknown as Error).message).toMatch(/No heart-beat from stomp:\/\/127\.0\.0\.1:\d+ for \d+ ms/);
  });

  it('a stall holds frames both ways while heart-beats still flow; heal lets them through', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0'] });
    const address = { scheme: 'stomp' as const, tls: false, host: '127.0.0.1', port: broker.port(), url: '' };
    const session = await Session.open(address, { acceptVersion: '1.2', heartBeat: [50, 50] });
    const frames: string[] = [];
    session.onFrame = (f) => frames.push(f.command);
    session.setFault({ kind: 'stall' });
    session.send({ command: 'SEND', headers: { destination: '/queue/held', receipt: 'r1' } as Record<string, string>, body: Buffer.from('x') });
    await new Promise((r) => setTimeout(r, 400));
    // Held: nothing reached the broker, yet the broker did not drop the silent-looking connection (beats flowed).
    expect(broker.router.queues.get('queue://held')).toBeUndefined();
    expect(session.isOpen).toBe(true);
    session.setFault(null);
    await eventually(() => frames.includes('RECEIPT'));
    expect(broker.router.queues.get('queue://held')!.stats.enqueued).toBe(1);
    session.destroy();
  });
});

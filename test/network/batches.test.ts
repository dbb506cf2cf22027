/**
 * Bridges carry messages in batches (src/network/batch.ts): many to a frame
 * when there is a backlog, one at a time when there is not. A batch cut or
 * held half-way through its frame must lose nothing and duplicate nothing.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { eventually } from '../helpers/broker.js';
import { type Frame, FrameParser } from '../../src/stomp/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { StoreOp, WriteCallback } from '../../src/store/types.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { broker, bridgesUp, client, consumer, sendAll, settle, url } from './helpers.js';

interface BridgeCounts {
  forwarded: number;
  forwardedFrames: number;
  received: number;
  receivedFrames: number;
  stalls: number;
  reconnects: number;
}

const bridge = (b: Broker) => (b.status().network as { bridges: BridgeCounts[] }).bridges[0];
const texts = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const PAD = ` ${'x'.repeat(1024)}`;
/** Messages of 1 KiB: about 50 fill a batch frame, so a frame is far longer than 30,000 bytes. */
async function sendKiB(b: Broker, destination: string, count: number, prefix: string): Promise<void> {
  const c = await client(b);
  for (let i = 0; i < count; i++) c.send(destination, `${prefix}${i}${PAD}`);
  await c.sendWithReceipt('/queue/amq-sim.test.flush', 'flush');
}
const names = (got: Array<{ text: string }>) => got.map((m) => m.text.split(' ')[0]);

const proxies: TcpProxy[] = [];
const servers: Array<{ server: Server; sockets: Set<Socket> }> = [];
afterEach(async () => {
  for (const p of proxies.splice(0)) await p.close();
  for (const { server, sockets } of servers.splice(0)) {
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => server.close(r));
  }
});

/** A store that refuses to add messages while `refusing` (a full disk, as the edge's bridge meets it). */
class RefusingStore extends MemoryStore {
  refusing = false;

  override write(op: StoreOp, done?: WriteCallback): void {
    if (this.refusing && op.op === 'add') return done?.(new Error('No space left on device (test)'));
    super.write(op, done);
  }
}

/**
 * A remote "broker" that answers a bridge like amq-sim would, then gives its
 * first pull subscription a batch frame that is not one; what it read.
 */
async function brokenHub(): Promise<{ port: number; seen: Frame[] }> {
  const seen: Frame[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    const parser = new FrameParser((f) => {
      seen.push(f);
      if (f.command === 'CONNECT') {
        parser.version = '1.2';
        socket.write(`CONNECTED\nversion:1.2\namq-sim-broker:${JSON.stringify({ brokerName: 'broken', brokerId: 'ID:broken' })}\n\n\0`);
      }
      if (f.headers.receipt) socket.write(`RECEIPT\nreceipt-id:${f.headers.receipt}\n\n\0`);
      if (f.command === 'SUBSCRIBE' && f.headers['amq-sim-network']) {
        socket.write(`MESSAGE\nsubscription:${f.headers.id}\ndestination:/queue/x\nmessage-id:1\nack:1-1\namq-sim-batch:2\ncontent-length:5\n\nhello\0`);
      }
    });
    socket.on('data', (d) => parser.push(d));
  });
  servers.push({ server, sockets });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, seen };
}

async function proxyTo(b: Broker): Promise<TcpProxy> {
  const p = await TcpProxy.start(b.port());
  proxies.push(p);
  return p;
}

describe('bridge batches', () => {
  it('pulls a backlog in a few frames, in order, and a trickle one message per frame', async () => {
    const hub = await broker('hub');
    const edge = await broker('edge', [`static:(${url(hub)})?duplex=true`]);
    await bridgesUp(edge);
    await sendAll(hub, '/queue/backlog', 3000);
    const onEdge = await consumer(edge, '/queue/backlog');
    await eventually(() => onEdge.got.length === 3000, 10_000, 'the backlog on the edge');
    expect(onEdge.texts()).toEqual(texts(3000));
    const afterBacklog = bridge(edge);
    expect(afterBacklog.received).toBe(3000);
    // The prefetch window (1000) is what a batch waits on: a handful of frames, not 3000.
    expect(afterBacklog.receivedFrames).toBeLessThanOrEqual(30);

    const producer = await client(hub);
    for (let i = 0; i < 5; i++) {
      producer.send('/queue/backlog', `late${i}`);
      await eventually(() => onEdge.got.length === 3001 + i, 2000, `late${i} on its own`);
    }
    expect(bridge(edge).receivedFrames - afterBacklog.receivedFrames).toBe(5);
  });

  it('pushes a backlog in a few SEND frames with one receipt, in order', async () => {
    const hub = await broker('hub');
    const edge = await broker('edge', [`static:(${url(hub)})`]);
    await bridgesUp(edge);
    await sendAll(edge, '/queue/up', 3000);
    const onHub = await consumer(hub, '/queue/up');
    await eventually(() => onHub.got.length === 3000, 10_000, 'the backlog on the hub');
    expect(onHub.texts()).toEqual(texts(3000));
    const counts = bridge(edge);
    expect(counts.forwarded).toBe(3000);
    expect(counts.forwardedFrames).toBeLessThanOrEqual(30);
  });

  it('loses nothing and duplicates nothing when the connection is cut in the middle of a batch, either way', async () => {
    // Down: the hub's MESSAGE batch to the edge's pull subscription.
    const hub = await broker('hub');
    const toHub = await proxyTo(hub);
    const edge = await broker('edge', [`static:(stomp://127.0.0.1:${toHub.port})?duplex=true&initialReconnectDelay=100`]);
    await bridgesUp(edge);
    await sendKiB(hub, '/queue/down', 300, 'd');
    const cut = toHub.faultAfter('down', 30_000, 'cut');
    const onEdge = await consumer(edge, '/queue/down');
    await cut;
    // Cut inside the first batch frame: the edge has no frame of it, and so no message.
    expect(bridge(edge).receivedFrames).toBe(0);
    await eventually(() => onEdge.got.length >= 300, 10_000, 'every message after the bridge came back');
    await settle();
    expect(names(onEdge.got)).toEqual(texts(300, 'd'));
    expect(bridge(edge).received).toBe(300);
    expect(bridge(edge).reconnects).toBeGreaterThanOrEqual(1);

    // Up: the edge's SEND batch to the hub, for a consumer there.
    await sendKiB(edge, '/queue/up', 300, 'u');
    const cutUp = toHub.faultAfter('up', 30_000, 'cut');
    const onHub = await consumer(hub, '/queue/up');
    await cutUp;
    await eventually(() => onHub.got.length >= 300, 10_000, 'every message after the bridge came back');
    await settle();
    expect(names(onHub.got)).toEqual(texts(300, 'u'));
    expect(onHub.got.every((m) => m.messageId.startsWith(`${edge.ids.runId}:`))).toBe(true);
    expect(bridge(edge).reconnects).toBeGreaterThanOrEqual(2);
  });

  it('finds a batch held in the middle of its frame (TCP open, nothing more arriving) with the watchdog, and sends it again once', async () => {
    const hub = await broker('hub');
    const toHub = await proxyTo(hub);
    const edge = await broker('edge', [`static:(stomp://127.0.0.1:${toHub.port})?duplex=true&initialReconnectDelay=100&progressTimeout=800`]);
    await bridgesUp(edge);
    await sendKiB(hub, '/queue/held', 300, 'h');
    const held = toHub.faultAfter('down', 30_000, 'hold');
    const onEdge = await consumer(edge, '/queue/held');
    await held;
    await eventually(() => bridge(edge).stalls === 1, 5000, 'the watchdog');
    await eventually(() => onEdge.got.length >= 300, 10_000, 'every message after the bridge came back');
    await settle();
    expect(names(onEdge.got)).toEqual(texts(300, 'h'));
    expect(bridge(edge).received).toBe(300);
  });

  it('holds the messages of a batch whose destination is full, in order, and receipts the batch once they are all stored', async () => {
    const hub = await broker('hub', [], { policyEntries: [{ queue: 'small', memoryLimit: '64 kb' as unknown as number }] });
    const edge = await broker('edge', [`static:(${url(hub)})`]);
    await bridgesUp(edge);
    // A consumer on the hub that takes one message and then waits: demand for the edge, and a queue that fills.
    const slow = await client(hub);
    const got: string[] = [];
    const sub = await slow.subscribe('/queue/small', (m) => got.push(m.text.split(' ')[0]), { ack: 'client-individual', headers: { 'activemq.prefetchSize': '1' } });
    await settle();
    await sendKiB(edge, '/queue/small', 200, 's');
    await eventually(() => (hub.router.queues.get('queue://small')?.memoryUsage ?? 0) >= 64 * 1024, 5000, 'the small queue full');
    expect(bridge(edge).forwarded).toBeGreaterThan(0);
    expect(hub.router.queues.get('queue://small')!.size).toBeLessThan(200);
    // The consumer drains it: the held messages of the batch follow, each once, in order.
    await sub.unsubscribe();
    const drain = await consumer(hub, '/queue/small');
    await eventually(() => got.length + drain.got.length === 200, 10_000, 'every message on the hub');
    expect([...got, ...names(drain.got)].sort()).toEqual(texts(200, 's').sort());
    expect(names(drain.got)).toEqual(texts(200, 's').filter((t) => !got.includes(t)));
    // Held and handled again, each kept the identity it had on the edge.
    expect(drain.got.every((m) => m.messageId.startsWith(`${edge.ids.runId}:`))).toBe(true);
    await eventually(() => (edge.router.queues.get('queue://small')?.size ?? 0) === 0, 5000, 'the edge acknowledged by the receipt');
  });

  it('starts the bridge over when the edge cannot store a pulled message (a full disk), and delivers everything once the store takes writes again', async () => {
    const store = new RefusingStore();
    const hub = await broker('hub');
    const edge = await broker('edge', [`static:(${url(hub)})?duplex=true&initialReconnectDelay=100&useExponentialBackOff=false`], { persistent: true }, { store });
    await bridgesUp(edge);
    const onEdge = await consumer(edge, '/queue/f');
    await settle();
    store.refusing = true;
    await sendAll(hub, '/queue/f', 50, { persistent: 'true' });
    await eventually(() => bridge(edge).reconnects >= 2, 5000, 'the bridge starting over while the store refuses');
    expect(onEdge.got).toEqual([]);
    store.refusing = false;
    await eventually(() => onEdge.got.length >= 50, 5000, 'every message once the store takes writes');
    await settle();
    expect(onEdge.texts()).toEqual(texts(50));
  });

  it('takes a forwarded batch again, not as duplicates, after the receiving broker\'s store refused it (a full disk)', async () => {
    const store = new RefusingStore();
    const hub = await broker('hub', [], { persistent: true }, { store });
    const edge = await broker('edge', [`static:(${url(hub)})?initialReconnectDelay=100&useExponentialBackOff=false`]);
    await bridgesUp(edge);
    const onHub = await consumer(hub, '/queue/up');
    await settle();
    store.refusing = true;
    await sendAll(edge, '/queue/up', 50, { persistent: 'true' });
    await eventually(() => bridge(edge).reconnects >= 2, 5000, 'the bridge starting over while the hub\'s store refuses');
    expect(onHub.got).toEqual([]);
    store.refusing = false;
    await eventually(() => onHub.got.length >= 50, 5000, 'every message once the store takes writes');
    await settle();
    expect(onHub.texts()).toEqual(texts(50));
  });

  it('starts the bridge over, acknowledging nothing, when the remote broker sends a malformed batch', async () => {
    const hub = await brokenHub();
    const edge = await broker('edge', [`static:(stomp://127.0.0.1:${hub.port})?duplex=true&initialReconnectDelay=100&useExponentialBackOff=false`]);
    await bridgesUp(edge);
    const onEdge = await consumer(edge, '/queue/x');
    await eventually(() => hub.seen.filter((f) => f.command === 'CONNECT').length >= 3, 5000, 'the bridge connecting again');
    const status = bridge(edge) as BridgeCounts & { lastError: string };
    expect(status.lastError).toBe('Invalid batch from the remote broker: it ends inside a message');
    expect(hub.seen.filter((f) => f.command === 'ACK')).toEqual([]);
    expect(onEdge.got).toEqual([]);
  });

  it('answers a malformed batch from a bridge with an ERROR that names it, and closes', async () => {
    const hub = await broker('hub');
    const raw = await RawStompSocket.connect(hub.port());
    const hello = JSON.stringify({ brokerName: 'forger', brokerId: 'ID:forger', connector: 'NC', duplex: false });
    raw.write(`CONNECT\naccept-version:1.2\nhost:localhost\namq-sim-bridge:${hello}\n\n\0`);
    expect((await raw.next()).command).toBe('CONNECTED');
    raw.version = '1.2';
    raw.write('SEND\ndestination:/queue/x\namq-sim-batch:3\nreceipt:r1\ncontent-length:6\n\nabcdef\0');
    const error = await raw.next();
    expect(error.command).toBe('ERROR');
    expect(error.headers.message).toBe('Invalid amq-sim-batch header: Invalid batch from the remote broker: it ends inside a message');
    expect(error.headers['receipt-id']).toBe('r1');
    await raw.waitClosed();
    expect(hub.router.queues.get('queue://x')?.size ?? 0).toBe(0);
    raw.close();
  });
});

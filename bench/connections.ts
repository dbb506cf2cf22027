/** Idle-connection scenarios: many heart-beating connections held open, and behaviour at the open-file limit. */
import net from 'node:net';
import type { BrokerTarget } from './targets.js';
import { consume, LoadConnection } from './load.js';

export interface IdleResult {
  target: string;
  connections: number;
  connectSeconds: number;
  connectRate: number;
  heldSeconds: number;
  dropped: number;
  rssBefore: number;
  rssAfter: number;
  rssPerConnection: number;
  idleCpuPercent: number;
  /** A message still flows through the broker while the connections are held. */
  servedWhileHeld: boolean;
}

const HEART_BEAT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;

/** Opens one STOMP connection with heart-beats and resolves once CONNECTED arrives. */
function openIdle(port: number, onClose: () => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let connected = false;
    socket.setEncoding('latin1');
    let beat: NodeJS.Timeout | undefined;
    // A broker out of descriptors may leave a connection accepted by the kernel and never answered.
    const unanswered = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no CONNECTED within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    socket.on('data', (d: string) => {
      if (!connected && d.startsWith('CONNECTED')) {
        connected = true;
        clearTimeout(unanswered);
        // Heart-beat from the moment the connection is open, as a client must (the broker, like ActiveMQ, drops one silent for 10 s).
        beat = setInterval(() => socket.write('\n'), HEART_BEAT_MS / 2);
        resolve(socket);
      } else if (!connected && d.startsWith('ERROR')) {
        clearTimeout(unanswered);
        reject(new Error(d.split('\n').find((l) => l.startsWith('message:')) ?? 'ERROR'));
      }
    });
    socket.on('error', (err) => {
      if (!connected) reject(err);
    });
    socket.on('close', () => {
      clearTimeout(unanswered);
      clearInterval(beat);
      if (connected) onClose();
    });
    socket.on('connect', () => socket.write(`CONNECT\naccept-version:1.1,1.2\nhost:localhost\nheart-beat:${HEART_BEAT_MS},${HEART_BEAT_MS}\n\n\0`));
  });
}

async function pingPong(port: number): Promise<boolean> {
  try {
    const c = await LoadConnection.open(port);
    const p = await LoadConnection.open(port);
    let got = false;
    await consume(c, { destination: '/queue/bench.idle-probe', ack: 'auto' }, () => (got = true));
    await p.write('SEND\ndestination:/queue/bench.idle-probe\n\nprobe\0');
    const deadline = Date.now() + 5000;
    while (!got && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    c.close();
    p.close();
    return got;
  } catch {
    return false;
  }
}

export async function idleConnections(target: BrokerTarget, count: number, holdSeconds: number): Promise<IdleResult> {
  await new Promise((r) => setTimeout(r, 2000));
  const rssBefore = target.rss();
  const sockets: net.Socket[] = [];
  let dropped = 0;
  const t0 = Date.now();
  const inFlight = 256;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count) {
          next++;
          sockets.push(await openIdle(target.port, () => dropped++));
        }
      }),
    );
  } catch (err) {
    for (const s of sockets) s.destroy();
    throw err;
  }
  const connectSeconds = (Date.now() - t0) / 1000;
  const cpu0 = target.cpuSeconds();
  const h0 = Date.now();
  await new Promise((r) => setTimeout(r, holdSeconds * 1000));
  const servedWhileHeld = await pingPong(target.port);
  const heldSeconds = (Date.now() - h0) / 1000;
  const cpu = target.cpuSeconds() - cpu0;
  const rssAfter = target.rss();
  for (const s of sockets) s.destroy();
  return {
    target: target.name,
    connections: sockets.length,
    connectSeconds,
    connectRate: sockets.length / connectSeconds,
    heldSeconds,
    dropped,
    rssBefore,
    rssAfter,
    rssPerConnection: (rssAfter - rssBefore) / sockets.length,
    idleCpuPercent: (cpu / heldSeconds) * 100,
    servedWhileHeld,
  };
}

/** A message from one already-open connection to another: the broker still serves the connections it has. */
async function pingPongOver(consumer: net.Socket, producer: net.Socket): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    consumer.on('data', (d: string) => {
      if (d.includes('MESSAGE')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    consumer.write('SUBSCRIBE\nid:probe\ndestination:/queue/bench.limit-probe\nreceipt:probe\n\n\0');
    setTimeout(() => producer.write('SEND\ndestination:/queue/bench.limit-probe\n\nprobe\0'), 200);
  });
}

export interface FileLimitResult {
  target: string;
  fileLimit: number;
  accepted: number;
  refusedCleanly: number;
  refusedOtherwise: number;
  refusalMessage: string;
  servedAfter: boolean;
}

/** Opens connections until the broker refuses them; checks that refusals are clean ERRORs and that the rest are still served. */
export async function atFileLimit(target: BrokerTarget, fileLimit: number): Promise<FileLimitResult> {
  const sockets: net.Socket[] = [];
  let refusedCleanly = 0;
  let refusedOtherwise = 0;
  let refusalMessage = '';
  for (let i = 0; i < fileLimit + 200 && refusedCleanly + refusedOtherwise < 50; i++) {
    try {
      sockets.push(await openIdle(target.port, () => {}));
    } catch (err) {
      const msg = (err as Error).message;
      if (msg.startsWith('message:')) {
        refusedCleanly++;
        refusalMessage = msg.slice('message:'.length);
      } else refusedOtherwise++;
    }
  }
  const servedAfter = sockets.length >= 2 && (await pingPongOver(sockets[0], sockets[1]));
  const accepted = sockets.length;
  for (const s of sockets) s.destroy();
  return { target: target.name, fileLimit, accepted, refusedCleanly, refusedOtherwise, refusalMessage, servedAfter };
}

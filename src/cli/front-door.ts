/**
 * One address for a master/slave pair, for clients that cannot fail over
 * (PHP's pecl stomp, stomp.py with one host, scripts): a port of `amq-sim
 * cluster` that forwards each connection to whichever broker of the pair
 * serves now. While none does, a connection gets a STOMP ERROR and is
 * closed; when the master dies its connections drop, and a client that
 * reconnects to the same address reaches the new master.
 */
import net from 'node:net';
import { listen } from '../util/listen.js';

export interface FrontDoorTarget {
  name: string;
  host: string;
  port: number;
}

const NO_MASTER = 'ERROR\nmessage:No broker of the pair serves now (a failover is under way): reconnect to the same address\ncontent-type:text/plain\n\n\0\n';

export interface FrontDoor {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenFrontDoor(host: string, port: number, current: () => FrontDoorTarget | null): Promise<FrontDoor> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    const target = current();
    if (!target) {
      client.end(NO_MASTER);
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    open.add(upstream);
    upstream.on('close', () => {
      open.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await listen(server, { host, port });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

import { afterEach } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { startBroker } from '../../src/index.js';
import { StompClient, type ReceivedMessage } from '../../src/client/index.js';
import type { PartialBrokerConfig } from '../../src/config/broker-config.js';
import { eventually } from '../helpers/broker.js';

const brokers: Broker[] = [];
const clients: StompClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

/** An in-memory broker on a free port, with network connectors to the given URIs (`deps.store`: a store of the test's). */
export async function broker(name: string, network: string[] = [], config: PartialBrokerConfig = {}, deps: Parameters<typeof startBroker>[1] = {}): Promise<Broker> {
  const b = await startBroker(
    {
      brokerName: name,
      transportConnectors: ['stomp://127.0.0.1:0'],
      persistent: false,
      networkConnectors: network,
      ...config,
      policy: { expireMessagesPeriod: 0, ...config.policy },
    },
    deps,
  );
  brokers.push(b);
  return b;
}

export function url(b: Broker): string {
  return `stomp://127.0.0.1:${b.port()}`;
}

export async function client(b: Broker): Promise<StompClient> {
  const c = await StompClient.connect(url(b));
  clients.push(c);
  return c;
}

/** Consumers on a broker that count what they receive. */
export async function consumer(b: Broker, destination: string, headers: Record<string, string> = {}) {
  const c = await client(b);
  const got: ReceivedMessage[] = [];
  const sub = await c.subscribe(destination, (m) => got.push(m), { headers });
  return { client: c, got, sub, texts: () => got.map((m) => m.text) };
}

/** Waits until every bridge of these brokers is up and carries the expected demand. */
export async function bridgesUp(...bs: Broker[]): Promise<void> {
  await eventually(
    () =>
      bs.every((b) => {
        const net = (b.status().network as { bridges: Array<{ state: string }> } | undefined)?.bridges ?? [];
        return net.every((x) => x.state === 'up');
      }),
    5000,
    'bridges up',
  );
}

/** Lets advisories and subscriptions settle across bridges. */
export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));

/** `headers`: the same for every message, or made per message. */
export async function sendAll(b: Broker, destination: string, count: number, headers: Record<string, string> | ((i: number) => Record<string, string>) = {}, prefix = 'm'): Promise<void> {
  const c = await client(b);
  for (let i = 0; i < count; i++) c.send(destination, `${prefix}${i}`, typeof headers === 'function' ? headers(i) : headers);
  await c.sendWithReceipt('/queue/amq-sim.test.flush', 'flush');
}

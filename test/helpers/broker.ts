import { afterEach } from 'vitest';
import { Broker, type BrokerDependencies } from '../../src/broker/broker.js';
import type { PartialBrokerConfig } from '../../src/config/broker-config.js';
import { StompClient, type ClientOptions, type ReceivedMessage } from '../../src/client/index.js';

const running: Broker[] = [];
const clients: StompClient[] = [];

/** Starts an in-memory broker on a free loopback port; it is stopped after the test. */
export async function startBroker(config: PartialBrokerConfig = {}, deps: BrokerDependencies = {}): Promise<Broker> {
  const broker = await Broker.start(
    { transportConnectors: ['stomp://127.0.0.1:0'], persistent: false, ...config, policy: { expireMessagesPeriod: 0, ...config.policy } },
    deps,
  );
  running.push(broker);
  return broker;
}

export async function connectClient(broker: Broker | number, options: ClientOptions = {}): Promise<StompClient> {
  const port = typeof broker === 'number' ? broker : broker.port();
  const client = await StompClient.connect(`stomp://127.0.0.1:${port}`, options);
  clients.push(client);
  return client;
}

export function trackClient(client: StompClient): StompClient {
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(running.splice(0).map((b) => b.stop()));
});

/** Polls `cond` until it holds. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Consumes and acknowledges everything on `destination` until nothing arrives for `quietMs`. */
export async function drainAll(url: string, destination: string, quietMs = 500): Promise<ReceivedMessage[]> {
  const c = await StompClient.connect(url);
  const got: ReceivedMessage[] = [];
  let last = Date.now();
  await c.subscribe(destination, (m) => {
    got.push(m);
    last = Date.now();
    c.ack(m);
  }, { ack: 'client-individual' });
  while (Date.now() - last < quietMs) await sleep(50);
  await c.disconnect();
  return got;
}

/**
 * Sends a persistent message through a failover client until a RECEIPT confirms it, sending again one whose
 * receipt a failover swallowed. Returns how many sends it took, or 0 when `stopped()` holds after a failed one.
 */
export async function sendUntilReceipted(client: StompClient, destination: string, body: string, stopped = () => false): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.whenConnected();
      await client.sendWithReceipt(destination, body, { persistent: 'true' });
      return attempt;
    } catch {
      if (stopped()) return 0;
      await sleep(50);
    }
  }
}

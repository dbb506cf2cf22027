import { Client, type IMessage } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep, startBroker } from '../helpers/broker.js';

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.deactivate()));
});

function stompjs(port: number, extra: Partial<ConstructorParameters<typeof Client>[0]> = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () => new TCPWrapper('127.0.0.1', port),
      reconnectDelay: 0,
      onConnect: () => resolve(client),
      onStompError: (f) => reject(new Error(f.headers.message)),
      onWebSocketError: (e) => reject(e),
      ...extra,
    });
    clients.push(client);
    client.activate();
  });
}

describe('@stomp/stompjs over @stomp/tcp-wrapper', () => {
  it('publishes, subscribes with client-individual acks, gets receipts, and heart-beats', async () => {
    const broker = await startBroker();
    const client = await stompjs(broker.port(), { heartbeatIncoming: 200, heartbeatOutgoing: 200 });
    const received: IMessage[] = [];
    client.subscribe('/queue/js', (m) => received.push(m), { ack: 'client-individual' });
    const receipt = new Promise<void>((resolve) => client.watchForReceipt('r-1', () => resolve()));
    for (let i = 0; i < 10; i++) client.publish({ destination: '/queue/js', body: `m${i}`, headers: i === 9 ? { receipt: 'r-1' } : {} });
    await receipt;
    client.publish({ destination: '/queue/js', binaryBody: new Uint8Array([0, 255, 0]) });
    await eventually(() => received.length === 11);
    expect(received.slice(0, 10).map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect([...received[10].binaryBody]).toEqual([0, 255, 0]);
    for (const m of received) m.ack();
    await eventually(() => broker.router.queues.get('queue://js')!.stats.dequeued === 11);
    // Heart-beats in both directions keep the connection up well past several intervals.
    await sleep(1000);
    expect(client.connected).toBe(true);
  });

  it('runs a transaction', async () => {
    const broker = await startBroker();
    const client = await stompjs(broker.port());
    const got: string[] = [];
    client.subscribe('/topic/tx', (m) => got.push(m.body));
    await sleep(50);
    const tx = client.begin();
    client.publish({ destination: '/topic/tx', body: 'a', headers: { transaction: tx.id } });
    client.publish({ destination: '/topic/tx', body: 'b', headers: { transaction: tx.id } });
    await sleep(50);
    expect(got).toEqual([]);
    tx.commit();
    await eventually(() => got.length === 2);
    expect(got).toEqual(['a', 'b']);
  });
});

import stompit from 'stompit';
import { describe, expect, it } from 'vitest';
import { eventually, startBroker } from '../helpers/broker.js';

interface StompitClient {
  send(headers: Record<string, string>, options?: unknown): { write(s: string): void; end(): void };
  subscribe(headers: Record<string, string>, cb: (err: Error | null, message: StompitMessage) => void): void;
  ack(message: StompitMessage): void;
  disconnect(cb?: () => void): void;
}
interface StompitMessage {
  headers: Record<string, string>;
  readString(encoding: string, cb: (err: Error | null, body: string) => void): void;
}

function connect(port: number): Promise<StompitClient> {
  return new Promise((resolve, reject) => {
    (stompit as unknown as { connect(o: unknown, cb: (e: Error | null, c: StompitClient) => void): void }).connect(
      { host: '127.0.0.1', port, connectHeaders: { host: 'localhost', 'heart-beat': '0,0', 'accept-version': '1.1' } },
      (err, client) => (err ? reject(err) : resolve(client)),
    );
  });
}

describe('stompit', () => {
  it('sends, subscribes with client acks and disconnects', async () => {
    const broker = await startBroker();
    const client = await connect(broker.port());
    const bodies: string[] = [];
    client.subscribe({ destination: '/queue/stompit', ack: 'client-individual' }, (err, message) => {
      if (err) throw err;
      message.readString('utf-8', (e, body) => {
        bodies.push(body);
        client.ack(message);
      });
    });
    for (let i = 0; i < 5; i++) {
      const frame = client.send({ destination: '/queue/stompit', 'content-type': 'text/plain' });
      frame.write(`hello ${i}`);
      frame.end();
    }
    await eventually(() => bodies.length === 5);
    expect(bodies).toEqual([0, 1, 2, 3, 4].map((i) => `hello ${i}`));
    await eventually(() => broker.router.queues.get('queue://stompit')!.stats.dequeued === 5);
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  });
});

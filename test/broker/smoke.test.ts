import { describe, expect, it } from 'vitest';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';

describe('smoke', () => {
  it('sends and receives on a queue', async () => {
    const broker = await startBroker();
    const c = await connectClient(broker);
    const got: string[] = [];
    await c.subscribe('/queue/a', (m) => got.push(m.text));
    await c.sendWithReceipt('/queue/a', 'hello');
    await eventually(() => got.length === 1);
    expect(got).toEqual(['hello']);
  });
});

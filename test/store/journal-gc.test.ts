import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('journal GC through a running broker', () => {
  it('leaves only a few segments after a steady produce/consume of many persistent messages', async () => {
    const directory = tempDir('gc');
    const broker = await startBroker({ persistent: true, store: { directory, journalMaxFileLength: 64 * 1024, cleanupInterval: 100 } });
    const producer = await connectClient(broker);
    const consumer = await connectClient(broker);
    let received = 0;
    await consumer.subscribe('/queue/steady', () => received++);
    const body = Buffer.alloc(1024, 'x');
    const total = 20_000;
    let maxSegments = 0;
    for (let i = 0; i < total; i++) {
      if (i % 500 === 499) {
        await producer.sendWithReceipt('/queue/steady', body, { persistent: 'true' });
        maxSegments = Math.max(maxSegments, readdirSync(directory).filter((f) => f.endsWith('.log')).length);
      } else producer.send('/queue/steady', body, { persistent: 'true' });
    }
    await eventually(() => received === total, 30_000, 'all messages consumed');
    // 20,000 1 KiB messages went through 64 KiB segments: about 340 were written, and GC (every 100 ms) kept
    // removing them while the load ran (how many stood at once depends on how busy the machine is).
    await eventually(() => readdirSync(directory).filter((f) => f.endsWith('.log')).length <= 3, 5000, 'GC to catch up');
    expect(maxSegments).toBeLessThan(100);
  });
});

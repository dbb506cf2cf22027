import { describe, expect, it } from 'vitest';
import { destination } from '../../../src/broker/core/destination.js';
import { BrokerMessage } from '../../../src/broker/core/message.js';
import { createHeaders } from '../../../src/stomp/index.js';

function message(body: Buffer): BrokerMessage {
  return new BrokerMessage({ id: 'ID:1', destination: destination('queue', 'q'), headers: createHeaders(), body, persistent: false, priority: 4, expiration: 0, timestamp: 1 });
}

describe('BrokerMessage', () => {
  it('copies a small body out of a large read buffer when kept, so the buffer can be freed', () => {
    const chunk = Buffer.alloc(65_536, 1);
    const m = message(chunk.subarray(100, 356));
    m.compact();
    expect(m.body.length).toBe(256);
    expect(m.body.buffer).not.toBe(chunk.buffer);
    expect(m.body.buffer.byteLength).toBeLessThan(chunk.length);
  });

  it('keeps a body that fills most of its buffer as it is', () => {
    const own = Buffer.alloc(100, 7);
    const m = message(own);
    m.compact();
    expect(m.body).toBe(own);
  });
});

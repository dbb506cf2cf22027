import { describe, expect, it } from 'vitest';
import { destination } from '../../src/broker/destination.js';
import { BrokerMessage } from '../../src/broker/message.js';
import { createHeaders } from '../../src/stomp/index.js';

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

  it('escapes the header block for 1.1+ and leaves it as is for 1.0', () => {
    const m = new BrokerMessage({ id: 'ID:a:b', destination: destination('queue', 'q'), headers: createHeaders({ 'k:1': 'v\n' }), body: Buffer.alloc(0), persistent: true, priority: 7, expiration: 5, timestamp: 9 });
    expect(m.head(true)).toBe('message-id:ID\\ca\\cb\ntimestamp:9\nexpires:5\npriority:7\npersistent:true\nk\\c1:v\\n\n');
    expect(m.head(false)).toBe('message-id:ID:a:b\ntimestamp:9\nexpires:5\npriority:7\npersistent:true\nk:1:v\n\n');
  });
});

import { describe, expect, it } from 'vitest';
import { destination } from '../../../src/broker/core/destination.js';
import { BrokerMessage } from '../../../src/broker/core/message.js';
import { messageFrameHead } from '../../../src/broker/stomp/message-frame.js';
import { createHeaders } from '../../../src/stomp/index.js';

function message(): BrokerMessage {
  return new BrokerMessage({ id: 'ID:a:b', destination: destination('queue', 'q'), headers: createHeaders({ 'k:1': 'v\n' }), body: Buffer.from('xyz'), persistent: true, priority: 7, expiration: 5, timestamp: 9 });
}

const parts = (escape: boolean) => ({ subscriptionLine: 'subscription:s1\n', destinationLine: 'destination:/queue/q\n', ackId: '', escape });

describe('MESSAGE frame assembly', () => {
  it('escapes the header block for 1.1+ and leaves it as is for 1.0', () => {
    const m = message();
    expect(messageFrameHead(m, parts(true))).toBe(
      'MESSAGE\nsubscription:s1\ndestination:/queue/q\nmessage-id:ID\\ca\\cb\ntimestamp:9\nexpires:5\npriority:7\npersistent:true\nk\\c1:v\\n\ncontent-length:3\n\n',
    );
    expect(messageFrameHead(m, parts(false))).toBe('MESSAGE\nsubscription:s1\ndestination:/queue/q\nmessage-id:ID:a:b\ntimestamp:9\nexpires:5\npriority:7\npersistent:true\nk:1:v\n\ncontent-length:3\n\n');
  });

  it('marks a redelivery and carries the 1.2 ack id', () => {
    const m = message();
    m.redeliveryCounter = 2;
    expect(messageFrameHead(m, { ...parts(true), ackId: '1-5' })).toMatch(/^MESSAGE\nsubscription:s1\ndestination:\/queue\/q\nack:1-5\nredelivered:true\nJMSXDeliveryCount:3\nmessage-id:/);
  });
});

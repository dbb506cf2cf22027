import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../../src/client/client.js';
import { connectClient, eventually, sleep, startBroker } from '../helpers/broker.js';

describe('temporary destinations stay private', () => {
  it.each(['queue', 'topic'])('a /%s/> wildcard subscriber gets none of another connection\'s temporary-destination replies', async (type) => {
    const broker = await startBroker();
    const snoop = await connectClient(broker);
    const snooped: ReceivedMessage[] = [];
    await snoop.subscribe(`/${type}/>`, (m) => snooped.push(m));
    const responder = await connectClient(broker);
    await responder.subscribe('/topic/requests', (m) => responder.send(m.headers['reply-to'], `re: ${m.text}`));
    const victim = await connectClient(broker);
    const replies: ReceivedMessage[] = [];
    await victim.subscribe(`/temp-${type}/replies`, (m) => replies.push(m));
    for (let i = 0; i < 10; i++) await victim.sendWithReceipt('/topic/requests', `q${i}`, { 'reply-to': `/temp-${type}/replies` });
    await eventually(() => replies.length === 10, 5000, 'the victim\'s ten replies');
    await sleep(200);
    // The snoop sees the requests on /topic/requests (when it is a topic wildcard), never a reply.
    expect(snooped.filter((m) => m.text.startsWith('re: '))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Frame, FrameParser } from '../../src/stomp/index.js';
import { StompClient } from '../../src/client/index.js';
import { connectClient, eventually, startBroker, trackClient } from '../helpers/broker.js';

async function openWs(port: number, protocols: string[]): Promise<{ ws: WebSocket; frames: Frame[]; kinds: boolean[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, protocols);
  const frames: Frame[] = [];
  const kinds: boolean[] = [];
  const parser = new FrameParser((f) => frames.push(f));
  parser.version = '1.2';
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    kinds.push(isBinary);
    parser.push(data);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, frames, kinds };
}

describe('STOMP over WebSocket', () => {
  it('negotiates the highest STOMP subprotocol offered', async () => {
    const broker = await startBroker({ transportConnectors: ['ws://127.0.0.1:0'] });
    const { ws } = await openWs(broker.port('ws'), ['v10.stomp', 'v12.stomp', 'v11.stomp']);
    expect(ws.protocol).toBe('v12.stomp');
    ws.close();
  });

  it('accepts text and binary WebSocket messages, and a frame split across messages', async () => {
    const broker = await startBroker({ transportConnectors: ['ws://127.0.0.1:0', 'stomp://127.0.0.1:0'] });
    const { ws, frames, kinds } = await openWs(broker.port('ws'), ['v12.stomp']);
    ws.send('CONNECT\naccept-version:1.2\nhost:x\n\n\0');
    await eventually(() => frames.some((f) => f.command === 'CONNECTED'));
    ws.send('SUBSCRIBE\nid:0\ndestination:/queue/ws\n\n\0');
    const body = Buffer.from([0xff, 0x00, 0xfe]);
    // stompjs in a browser sends binary bodies as binary WebSocket messages (ActiveMQ 5.17 drops those).
    ws.send(Buffer.concat([Buffer.from('SEND\ndestination:/queue/ws\ncontent-length:3\n\n'), body, Buffer.from([0])]), { binary: true });
    ws.send('SEND\ndestination:/queue/ws\n\nte');
    ws.send('xt\0');
    await eventually(() => frames.filter((f) => f.command === 'MESSAGE').length === 2);
    const messages = frames.filter((f) => f.command === 'MESSAGE');
    expect([...messages[0].body]).toEqual([0xff, 0x00, 0xfe]);
    expect(messages[1].body.toString()).toBe('text');
    // Text frames for UTF-8 content, binary frames otherwise.
    expect(kinds.slice(-2)).toEqual([true, false]);
    // The same broker core serves TCP clients.
    const tcp = await connectClient(broker);
    await tcp.sendWithReceipt('/queue/ws', 'from tcp');
    await eventually(() => frames.filter((f) => f.command === 'MESSAGE').length === 3);
    ws.close();
  });

  it('serves the project client over ws://', async () => {
    const broker = await startBroker({ transportConnectors: ['ws://127.0.0.1:0'] });
    const c = trackClient(await StompClient.connect(`ws://127.0.0.1:${broker.port('ws')}`));
    const got: string[] = [];
    await c.subscribe('/topic/t', (m) => got.push(m.text));
    await c.sendWithReceipt('/topic/t', 'hello');
    await eventually(() => got.length === 1);
  });
});

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { connectClient, eventually, startBroker } from '../helpers/broker.js';

/** Sends `payload` after CONNECT (unless `connect` is false) and expects ERROR then close. */
async function expectRefused(port: number, payload: string | Buffer, opts: { connect?: boolean; message?: RegExp | string } = {}) {
  const s = await RawStompSocket.connect(port);
  if (opts.connect !== false) expect((await s.connect()).command).toBe('CONNECTED');
  s.write(payload);
  const err = await s.next('ERROR');
  if (opts.message instanceof RegExp) expect(err.headers.message).toMatch(opts.message);
  else if (opts.message !== undefined) expect(err.headers.message).toBe(opts.message);
  expect(err.body.length).toBeGreaterThan(0);
  await s.waitClosed();
  return err;
}

describe('bad input gets ERROR then close, and nobody else notices', () => {
  it('refuses frames before CONNECT', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), 'SEND\ndestination:/queue/a\n\nx\0', { connect: false, message: 'Not connected.' });
  });

  it('refuses unknown commands', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), 'FROB\n\n\0', { message: 'Unknown STOMP action: FROB' });
  });

  it('refuses SEND without destination, and illegal destinations', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), 'SEND\n\nx\0', { message: 'SEND received without a Destination specified!' });
    await expectRefused(broker.port(), 'SEND\ndestination:foo\n\nx\0', { message: /^Illegal destination name: \[foo\] -- ActiveMQ STOMP destinations must begin with one of/ });
  });

  it('refuses SUBSCRIBE without id in 1.1+', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), 'SUBSCRIBE\ndestination:/queue/a\n\n\0', { message: 'SUBSCRIBE received without a subscription id!' });
  });

  it('refuses frames over wireFormat.maxFrameSize, announced or not', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0?wireFormat.maxFrameSize=4096'] });
    await expectRefused(broker.port(), `SEND\ndestination:/queue/a\ncontent-length:100000\n\n`, { message: /maximum frame size of 4096/ });
    await expectRefused(broker.port(), `SEND\ndestination:/queue/a\n\n${'x'.repeat(10_000)}`, { message: /maximum frame size of 4096/ });
  });

  it('refuses too many headers and too long header lines', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), `SEND\ndestination:/queue/a\n${'h:v\n'.repeat(1001)}\n\0`, { message: /more than 1000 headers/ });
    await expectRefused(broker.port(), `SEND\ndestination:/queue/a\nh:${'v'.repeat(20_000)}\n\n\0`, { message: /Header line exceeds 10240 bytes/ });
  });

  it('refuses bad content-length: negative, not a number, or shorter than the body', async () => {
    const broker = await startBroker();
    await expectRefused(broker.port(), 'SEND\ndestination:/queue/a\ncontent-length:-5\n\nx\0', { message: "Invalid content-length: '-5'" });
    await expectRefused(broker.port(), 'SEND\ndestination:/queue/a\ncontent-length:ten\n\nx\0', { message: "Invalid content-length: 'ten'" });
    await expectRefused(broker.port(), 'SEND\ndestination:/queue/a\ncontent-length:2\n\nhello\0', { message: /longer than its content-length/ });
  });

  it('survives garbage bytes', async () => {
    const broker = await startBroker();
    for (let i = 0; i < 20; i++) {
      const s = await RawStompSocket.connect(broker.port());
      s.write(randomBytes(4096));
      await Promise.race([s.waitClosed(3000), s.next('ERROR', 3000)]).catch(() => undefined);
      s.close();
    }
    const c = await connectClient(broker);
    await c.sendWithReceipt('/queue/alive', 'yes');
  });

  it('refuses connections beyond maximumConnections with ERROR', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0?maximumConnections=2'] });
    const a = await connectClient(broker);
    const b = await connectClient(broker);
    const s = await RawStompSocket.connect(broker.port());
    const err = await s.next('ERROR');
    expect(err.headers.message).toMatch(/^Exceeded the maximum number of allowed client connections/);
    await s.waitClosed();
    b.destroy();
    await eventually(() => broker.addresses[0].connections === 1);
    const c = await connectClient(broker);
    expect(c.connected && a.connected).toBe(true);
  });

  it('keeps serving other clients while one misbehaves', async () => {
    const broker = await startBroker();
    const producer = await connectClient(broker);
    const consumer = await connectClient(broker);
    let received = 0;
    await consumer.subscribe('/queue/steady', () => received++);
    const attacks = [
      'FROB\n\n\0',
      'SEND\n\nx\0',
      `SEND\ndestination:/queue/a\n${'h:v\n'.repeat(2000)}\n\0`,
      'SEND\ndestination:/queue/a\ncontent-length:-1\n\n\0',
    ];
    const sending = (async () => {
      for (let i = 0; i < 200; i++) await producer.sendWithReceipt('/queue/steady', String(i));
    })();
    await Promise.all(attacks.map((a) => expectRefused(broker.port(), a)));
    await sending;
    await eventually(() => received === 200);
  });
});

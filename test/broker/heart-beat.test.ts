import { describe, expect, it } from 'vitest';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { sleep, startBroker } from '../helpers/broker.js';

describe('heart-beats', () => {
  it('takes the client proposal as ActiveMQ does and sends EOLs at the client rate', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    const f = await s.connect('accept-version:1.2\nheart-beat:0,200');
    expect(f.headers['heart-beat']).toBe('200,0');
    let bytes = 0;
    s.socket.on('data', (d) => (bytes += d.length));
    await sleep(1100);
    // At least one EOL per 200 ms.
    expect(bytes).toBeGreaterThanOrEqual(5);
    expect(s.closed).toBe(false);
    s.close();
  });

  it('closes a connection that stops sending heart-beats', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect('accept-version:1.2\nheart-beat:200,0');
    const t0 = Date.now();
    await s.waitClosed(3000);
    const elapsed = Date.now() - t0;
    // ActiveMQ's read check: fails on the first tick (every 200 ms × grace 1.0) that saw nothing since the previous one.
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1000);
  });

  it('keeps a connection that heart-beats, and honours transport.hbGracePeriodMultiplier', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0?transport.hbGracePeriodMultiplier=3'] });
    const s = await RawStompSocket.connect(broker.port());
    await s.connect('accept-version:1.2\nheart-beat:100,0');
    const beat = setInterval(() => s.write('\n'), 150);
    await sleep(900);
    clearInterval(beat);
    // 150 ms gaps against a 100 ms interval would fail at grace 1.0; at 3.0 (300 ms checks) they pass.
    expect(s.closed).toBe(false);
    await s.waitClosed(2000);
  });

  it('refuses a malformed heart-beat header', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    const f = await s.connect('accept-version:1.2\nheart-beat:abc');
    expect(f.command).toBe('ERROR');
    expect(f.headers.message).toBe('Invalid heart-beat header: abc');
  });

  it('applies transport.defaultHeartBeat when the client sends none', async () => {
    const broker = await startBroker({ transportConnectors: ['stomp://127.0.0.1:0?transport.defaultHeartBeat=0,100'] });
    const s = await RawStompSocket.connect(broker.port());
    const f = await s.connect('accept-version:1.2');
    expect(f.headers['heart-beat']).toBe('100,0');
    s.close();
  });
});

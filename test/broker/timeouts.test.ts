import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startBroker } from '../helpers/broker.js';
import { MemoryClient } from '../helpers/memory-client.js';

const FAKE: Parameters<typeof vi.useFakeTimers>[0] = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] };

/** Heart-beats and the connection timeouts, over an in-memory link with fake timers: time is driven by the test, not slept. */
describe('heart-beats and timeouts', () => {
  beforeEach(() => {
    vi.useFakeTimers(FAKE);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A broker started on real time, then a client on an in-memory link under fake time. */
  async function client(connectorUri?: string): Promise<MemoryClient> {
    vi.useRealTimers();
    const broker = await startBroker();
    vi.useFakeTimers(FAKE);
    return MemoryClient.attach(broker, connectorUri);
  }

  async function connected(headers: string, connectorUri?: string): Promise<MemoryClient> {
    const c = await client(connectorUri);
    c.write(`CONNECT\n${headers}\n\n\0`);
    await vi.advanceTimersByTimeAsync(1);
    return c;
  }

  it('takes the client proposal as ActiveMQ does and sends EOLs at the client rate', async () => {
    const c = await connected('accept-version:1.2\nheart-beat:0,200');
    expect(c.last('CONNECTED')!.headers['heart-beat']).toBe('200,0');
    const before = c.received;
    await vi.advanceTimersByTimeAsync(1000);
    // At least one EOL per 200 ms.
    expect(c.received - before).toBeGreaterThanOrEqual(5);
    expect(c.closed).toBe(false);
  });

  it('keeps a client that beats at its interval, late by jitter, indefinitely (ActiveMQ\'s check would drop it)', async () => {
    const c = await connected('accept-version:1.2\nheart-beat:1000,0');
    // Beats every 1000-1030 ms, the way stomp.py and stompjs time them: never early, often a little late.
    for (let i = 0; i < 600; i++) {
      await vi.advanceTimersByTimeAsync(1000 + (i * 7) % 31);
      c.write('\n');
    }
    expect(c.closed).toBe(false);
  });

  it('drops a client silent for two read-check periods, not sooner', async () => {
    const c = await connected('accept-version:1.2\nheart-beat:200,0');
    await vi.advanceTimersByTimeAsync(390);
    expect(c.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    expect(c.closed).toBe(true);
  });

  it('honours transport.hbGracePeriodMultiplier: the read-check period is the interval × it', async () => {
    const c = await connected('accept-version:1.2\nheart-beat:100,0', 'stomp://127.0.0.1:0?transport.hbGracePeriodMultiplier=3');
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(550);
      c.write('\n');
    }
    // 550 ms gaps against 100 ms × 3 × 2 = 600 ms.
    expect(c.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(700);
    expect(c.closed).toBe(true);
  });

  it('refuses a malformed heart-beat header with ActiveMQ\'s text and the catalogue code', async () => {
    const c = await connected('accept-version:1.2\nheart-beat:abc');
    const e = c.last('ERROR')!;
    expect(e.headers.message).toBe('Invalid heart-beat header: abc');
    expect(e.headers['error-code']).toBe('STOMP_HEART_BEAT');
    expect(c.closed).toBe(true);
  });

  it('applies transport.defaultHeartBeat when the client sends none', async () => {
    const c = await connected('accept-version:1.2', 'stomp://127.0.0.1:0?transport.defaultHeartBeat=0,100');
    expect(c.last('CONNECTED')!.headers['heart-beat']).toBe('100,0');
  });

  it('closes a connection that sends no CONNECT within transport.connectAttemptTimeout', async () => {
    const c = await client('stomp://127.0.0.1:0?transport.connectAttemptTimeout=500');
    await vi.advanceTimersByTimeAsync(499);
    expect(c.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(c.last('ERROR')!.headers.message).toBe('Connection did not send CONNECT in time');
    expect(c.closed).toBe(true);
  });

  it('abandons a frame that stops half way for transport.partialFrameTimeout', async () => {
    const c = await connected('accept-version:1.2', 'stomp://127.0.0.1:0?transport.partialFrameTimeout=1000');
    c.write('SEND\ndestination:/queue/slow\n\nhalf a bo');
    await vi.advanceTimersByTimeAsync(999);
    expect(c.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(c.last('ERROR')!.headers['error-code']).toBe('STOMP_INCOMPLETE_FRAME');
    expect(c.closed).toBe(true);
  });

  it('abandons a frame fed a byte at a time once transport.partialFrameTimeout has passed since its first byte', async () => {
    const c = await connected('accept-version:1.2', 'stomp://127.0.0.1:0?transport.partialFrameTimeout=1000');
    c.write('SEND\ndestination:/queue/slow\ncontent-length:100\n\n');
    for (let i = 0; i < 9; i++) {
      await vi.advanceTimersByTimeAsync(100);
      c.write('x');
    }
    expect(c.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(150);
    expect(c.last('ERROR')!.headers['error-code']).toBe('STOMP_INCOMPLETE_FRAME');
    expect(c.closed).toBe(true);
  });

  it('gives each frame its own time: frames that complete in time, one after the other, keep the connection', async () => {
    const c = await connected('accept-version:1.2', 'stomp://127.0.0.1:0?transport.partialFrameTimeout=1000');
    for (let i = 0; i < 5; i++) {
      c.write('SEND\ndestination:/queue/slow\n\nhal');
      await vi.advanceTimersByTimeAsync(800);
      c.write('f\0SEND\ndestination:/queue/slow\n\nnext');
      await vi.advanceTimersByTimeAsync(800);
      c.write('\0');
    }
    expect(c.closed).toBe(false);
  });
});

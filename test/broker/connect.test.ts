import { describe, expect, it } from 'vitest';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { sleep, startBroker } from '../helpers/broker.js';

describe('CONNECT and version negotiation', () => {
  it('answers CONNECTED with version, session, server and heart-beat', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    const f = await s.connect('accept-version:1.0,1.1,1.2\nhost:x\nheart-beat:0,0');
    expect(f.command).toBe('CONNECTED');
    expect(f.headers.version).toBe('1.2');
    expect(f.headers.session).toMatch(/^ID:/);
    expect(f.headers.server).toMatch(/^amq-sim\//);
    expect(f.headers['heart-beat']).toBe('0,0');
    s.close();
  });

  it('accepts the STOMP command as CONNECT', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    s.write('STOMP\naccept-version:1.2\nhost:x\n\n\0');
    expect((await s.next()).command).toBe('CONNECTED');
    s.close();
  });

  it('speaks 1.0 when CONNECT has no accept-version, and picks the highest common version', async () => {
    const broker = await startBroker();
    for (const [accept, expected] of [
      [undefined, '1.0'],
      ['1.1', '1.1'],
      ['1.0,1.1', '1.1'],
      ['1.2,1.0', '1.2'],
      ['1.1,2.0', '1.1'],
    ] as const) {
      const s = await RawStompSocket.connect(broker.port());
      const f = await s.connect(accept === undefined ? 'login:x' : `accept-version:${accept}`);
      expect(f.headers.version, String(accept)).toBe(expected);
      s.close();
    }
  });

  it('refuses unsupported versions with ERROR, then closes', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    const f = await s.connect('accept-version:2.0,3.0');
    expect(f.command).toBe('ERROR');
    expect(f.headers.message).toBe('Invalid Protocol version[2.0,3.0], supported versions are: [1.0, 1.1, 1.2]');
    await s.waitClosed();
  });

  it('uses client-id as the session and refuses a second connection with the same client-id', async () => {
    const broker = await startBroker();
    const a = await RawStompSocket.connect(broker.port());
    expect((await a.connect('accept-version:1.2\nclient-id:me')).headers.session).toBe('me');
    const b = await RawStompSocket.connect(broker.port());
    const f = await b.connect('accept-version:1.2\nclient-id:me');
    expect(f.command).toBe('ERROR');
    expect(f.headers.message).toContain('Client: me already connected');
    await b.waitClosed();
    a.close();
    await sleep(50);
    const c = await RawStompSocket.connect(broker.port());
    expect((await c.connect('accept-version:1.2\nclient-id:me')).command).toBe('CONNECTED');
    c.close();
  });

  it('refuses a second CONNECT', async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write('CONNECT\naccept-version:1.2\n\n\0');
    expect((await s.next('ERROR')).headers.message).toBe('Already connected.');
    await s.waitClosed();
  });
});

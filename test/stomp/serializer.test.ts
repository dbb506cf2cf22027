import { describe, expect, it } from 'vitest';
import { createHeaders, encodeFrame } from '../../src/stomp/index.js';

describe('encodeFrame', () => {
  it('writes command, headers, content-length, blank line, body, NUL and an EOL (as ActiveMQ ends frames)', () => {
    const out = encodeFrame({ command: 'SEND', headers: createHeaders({ destination: '/queue/a' }), body: Buffer.from('hi') }, '1.2');
    expect(out.toString()).toBe('SEND\ndestination:/queue/a\ncontent-length:2\n\nhi\0\n');
  });

  it('escapes headers in 1.1+ but not in CONNECT, CONNECTED or 1.0', () => {
    const headers = createHeaders({ 'a:b': 'x\ny\r\\:' });
    expect(encodeFrame({ command: 'MESSAGE', headers, body: Buffer.alloc(0) }, '1.2').toString()).toContain('a\\cb:x\\ny\\r\\\\\\c\n');
    expect(encodeFrame({ command: 'CONNECTED', headers: createHeaders({ s: 'a:b' }), body: Buffer.alloc(0) }, '1.2').toString()).toContain('s:a:b\n');
    expect(encodeFrame({ command: 'MESSAGE', headers: createHeaders({ s: 'a:b' }), body: Buffer.alloc(0) }, '1.0').toString()).toContain('s:a:b\n');
  });

  it('replaces a given content-length with the real one, or keeps headers as given when asked', () => {
    const frame = { command: 'SEND', headers: createHeaders({ 'content-length': '99' }), body: Buffer.from('abc') };
    expect(encodeFrame(frame, '1.2').toString()).toBe('SEND\ncontent-length:3\n\nabc\0\n');
    expect(encodeFrame(frame, '1.2', { contentLength: false }).toString()).toBe('SEND\ncontent-length:99\n\nabc\0\n');
  });
});

import { describe, expect, it } from 'vitest';
import { FrameParser, StompCodecError, type Frame, type ParserLimits, type StompVersion } from '../../src/stomp/index.js';

function parse(input: string | Buffer, opts: { version?: StompVersion; limits?: Partial<ParserLimits>; chunk?: number } = {}): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser((f) => frames.push(f), opts.limits);
  if (opts.version) parser.version = opts.version;
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const step = opts.chunk ?? bytes.length;
  for (let i = 0; i < bytes.length; i += step) parser.push(bytes.subarray(i, i + step));
  return frames;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof StompCodecError) return e.code;
    throw e;
  }
  return 'none';
}

describe('FrameParser', () => {
  it('parses a frame with a NUL-terminated body', () => {
    const [f] = parse('SEND\ndestination:/queue/a\n\nhello\0');
    expect(f.command).toBe('SEND');
    expect(f.headers.destination).toBe('/queue/a');
    expect(f.body.toString()).toBe('hello');
  });

  it('reads a content-length body that contains NUL bytes', () => {
    const body = Buffer.from([1, 0, 2, 0, 0, 3]);
    const input = Buffer.concat([Buffer.from(`SEND\ndestination:/queue/a\ncontent-length:${body.length}\n\n`), body, Buffer.from([0])]);
    const [f] = parse(input);
    expect(Buffer.compare(f.body, body)).toBe(0);
  });

  it('gives the same frames for every chunking, down to one byte at a time', () => {
    const body = Buffer.from([0, 1, 0]);
    const input = Buffer.concat([
      Buffer.from('\n\r\nCONNECT\naccept-version:1.2\n\n\0\n'),
      Buffer.from(`SEND\r\ndestination:/queue/x\r\ncontent-length:3\r\n\r\n`),
      body,
      Buffer.from('\0\nSEND\ndestination:/topic/y\n\nplain\0'),
    ]);
    const whole = parse(input);
    expect(whole.map((f) => f.command)).toEqual(['CONNECT', 'SEND', 'SEND']);
    for (let chunk = 1; chunk <= input.length; chunk++) {
      const frames = parse(input, { chunk });
      expect(frames.map((f) => [f.command, { ...f.headers }, f.body.toString('hex')])).toEqual(
        whole.map((f) => [f.command, { ...f.headers }, f.body.toString('hex')]),
      );
    }
  });

  it('parses many frames from one chunk', () => {
    const one = 'SEND\ndestination:/queue/a\n\nx\0';
    expect(parse(one.repeat(500))).toHaveLength(500);
  });

  it('accepts CRLF line ends and skips EOL heart-beats between frames', () => {
    const frames = parse('\r\n\n\nSEND\r\ndestination:/queue/a\r\n\r\nbody\0\r\n\n');
    expect(frames).toHaveLength(1);
    expect(frames[0].headers.destination).toBe('/queue/a');
  });

  it('unescapes header values in 1.1 and 1.2', () => {
    for (const version of ['1.1', '1.2'] as const) {
      const [f] = parse('SEND\ndestination:/queue/a\nk\\cey:a\\nb\\rc\\cd\\\\e\n\n\0', { version });
      expect(f.headers['k:ey']).toBe('a\nb\rc:d\\e');
    }
  });

  it('does not unescape CONNECT or CONNECTED, nor anything in 1.0', () => {
    expect(parse('CONNECT\nlogin:a\\cb\n\n\0', { version: '1.2' })[0].headers.login).toBe('a\\cb');
    expect(parse('CONNECTED\nsession:a\\cb\n\n\0', { version: '1.2' })[0].headers.session).toBe('a\\cb');
    expect(parse('SEND\nx:a\\cb\n\n\0', { version: '1.0' })[0].headers.x).toBe('a\\cb');
  });

  it('rejects undefined escape sequences in 1.1+', () => {
    expect(codeOf(() => parse('SEND\nx:a\\tb\n\n\0', { version: '1.2' }))).toBe('BAD_ESCAPE');
    expect(codeOf(() => parse('SEND\nx:ab\\\n\n\0', { version: '1.1' }))).toBe('BAD_ESCAPE');
  });

  it('keeps the first of repeated headers', () => {
    const [f] = parse('MESSAGE\nfoo:World\nfoo:Hello\n\n\0', { version: '1.2' });
    expect(f.headers.foo).toBe('World');
  });

  it('decodes UTF-8 in headers and keeps the body bytes', () => {
    const [f] = parse('SEND\ndestination:/queue/日本\nnote:héllo ✓\n\nça va\0', { version: '1.2' });
    expect(f.headers.destination).toBe('/queue/日本');
    expect(f.headers.note).toBe('héllo ✓');
    expect(f.body.toString('utf8')).toBe('ça va');
  });

  it('treats header names like __proto__ as plain keys', () => {
    const [f] = parse('SEND\n__proto__:x\nconstructor:y\n\n\0', { version: '1.2' });
    expect(f.headers.__proto__).toBe('x');
    expect(Object.keys(f.headers)).toEqual(['__proto__', 'constructor']);
  });

  it('trims header names and values in 1.0 only', () => {
    expect(parse('SEND\n destination : /queue/a \n\n\0')[0].headers.destination).toBe('/queue/a');
    expect(parse('SEND\nx: a \n\n\0', { version: '1.2' })[0].headers.x).toBe(' a ');
  });

  it('applies a version change made inside onFrame to the rest of the same chunk', () => {
    const frames: Frame[] = [];
    const parser = new FrameParser((f) => {
      frames.push(f);
      if (f.command === 'CONNECT') parser.version = '1.2';
    });
    parser.push(Buffer.from('CONNECT\naccept-version:1.2\n\n\0SEND\nx:a\\cb\n\n\0'));
    expect(frames[1].headers.x).toBe('a:b');
  });

  it('enforces the frame size limit on headers and on bodies, with or without content-length', () => {
    const limits = { maxFrameSize: 64 };
    expect(codeOf(() => parse(`SEND\ncontent-length:100\n\n${'x'.repeat(100)}\0`, { limits }))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => parse(`SEND\n\n${'x'.repeat(100)}`, { limits }))).toBe('FRAME_TOO_LARGE');
    expect(codeOf(() => parse(`SEND\n${'a:b\n'.repeat(20)}`, { limits }))).toBe('FRAME_TOO_LARGE');
    expect(parse(`SEND\n\n${'x'.repeat(50)}\0`, { limits })).toHaveLength(1);
  });

  it('rejects an announced oversize body before reading it', () => {
    const frames: Frame[] = [];
    const parser = new FrameParser((f) => frames.push(f), { maxFrameSize: 1000 });
    expect(codeOf(() => parser.push(Buffer.from('SEND\ncontent-length:1000000\n\n')))).toBe('FRAME_TOO_LARGE');
  });

  it('enforces the header count and header line limits', () => {
    expect(codeOf(() => parse(`SEND\n${'a:b\n'.repeat(11)}\n\0`, { limits: { maxHeaders: 10 } }))).toBe('TOO_MANY_HEADERS');
    expect(parse(`SEND\n${'a:b\n'.repeat(10)}\n\0`, { limits: { maxHeaders: 10 } })).toHaveLength(1);
    expect(codeOf(() => parse(`SEND\nx:${'y'.repeat(200)}\n\n\0`, { limits: { maxHeaderLineLength: 100 } }))).toBe('HEADER_TOO_LONG');
    // An unterminated long line is refused before its LF arrives.
    expect(codeOf(() => parse(`SEND\nx:${'y'.repeat(200)}`, { limits: { maxHeaderLineLength: 100 }, chunk: 7 }))).toBe('HEADER_TOO_LONG');
  });

  it('rejects bad content-length values', () => {
    for (const v of ['-1', 'abc', '1.5', '', '0x10']) {
      expect(codeOf(() => parse(`SEND\ncontent-length:${v}\n\nx\0`))).toBe('BAD_CONTENT_LENGTH');
    }
  });

  it('rejects a body longer than its content-length', () => {
    expect(codeOf(() => parse('SEND\ncontent-length:2\n\nhello\0'))).toBe('MISSING_NUL');
  });

  it('rejects header lines without a colon', () => {
    expect(codeOf(() => parse('SEND\nnocolon\n\n\0'))).toBe('MALFORMED_HEADER');
  });

  it('reports a frame in progress', () => {
    const parser = new FrameParser(() => {});
    expect(parser.midFrame).toBe(false);
    parser.push(Buffer.from('\n\n'));
    expect(parser.midFrame).toBe(false);
    parser.push(Buffer.from('SE'));
    expect(parser.midFrame).toBe(true);
    parser.push(Buffer.from('ND\n\nabc'));
    expect(parser.midFrame).toBe(true);
    parser.push(Buffer.from('\0'));
    expect(parser.midFrame).toBe(false);
  });

  it('returns bodies as views into the input chunk (callers copy what they keep)', () => {
    const input = Buffer.from('SEND\n\nabc\0SEND\n\ndef\0');
    const frames = parse(input);
    expect(frames[0].body.buffer).toBe(input.buffer);
    expect(frames[1].body.toString()).toBe('def');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHeaders, encodeFrame, FrameParser, StompCodecError, type Frame, type StompVersion } from '../../src/stomp/index.js';

const COMMANDS = ['SEND', 'SUBSCRIBE', 'MESSAGE', 'ACK', 'NACK', 'RECEIPT', 'ERROR', 'BEGIN', 'COMMIT', 'CONNECT', 'CONNECTED'];

// In 1.0 nothing is escaped, so names and values must avoid the bytes that delimit lines and fields.
const plainText = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\r\n:\0]/.test(s) && s.trim() === s);
const anyText = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));

function frameArb(version: StompVersion) {
  const escaped = version !== '1.0';
  return fc.record({
    command: fc.constantFrom(...COMMANDS),
    headers: fc.uniqueArray(fc.tuple(escaped ? anyText.filter((s) => s.length > 0) : plainText.filter((s) => s.length > 0), escaped ? anyText : plainText), {
      selector: ([k]) => k,
      maxLength: 8,
    }),
    body: fc.uint8Array({ maxLength: 300 }),
  });
}

function decodeAll(bytes: Buffer, version: StompVersion, cuts: number[]): Frame[] {
  const out: Frame[] = [];
  const parser = new FrameParser((f) => out.push(f));
  parser.version = version;
  let last = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
    parser.push(bytes.subarray(last, cut));
    last = cut;
  }
  return out;
}

describe('codec round trip (property)', () => {
  for (const version of ['1.0', '1.1', '1.2'] as const) {
    it(`parse(encode(frames)) gives the frames back, for any chunking, in ${version}`, () => {
      fc.assert(
        fc.property(fc.array(frameArb(version), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), (frames, cuts, heartBeats) => {
          const built = frames.map((f) => ({
            command: f.command,
            headers: createHeaders(Object.fromEntries(f.headers.filter(([k]) => k !== 'content-length'))),
            body: Buffer.from(f.body),
          }));
          const parts = built.flatMap((f) => [encodeFrame(f, version), ...(heartBeats ? [Buffer.from('\n')] : [])]);
          // CONNECT/CONNECTED are never escaped: keep only frames whose headers survive that in this property.
          const decodable = built.filter((f) => version === '1.0' || !['CONNECT', 'CONNECTED'].includes(f.command) || Object.entries(f.headers).every(([k, v]) => !/[\r\n:\\]/.test(k + v)));
          fc.pre(decodable.length === built.length);
          const decoded = decodeAll(Buffer.concat(parts), version, cuts);
          expect(decoded).toHaveLength(built.length);
          decoded.forEach((d, i) => {
            expect(d.command).toBe(built[i].command);
            expect({ ...d.headers }).toEqual({ ...built[i].headers, 'content-length': String(built[i].body.length) });
            expect(Buffer.compare(d.body, built[i].body)).toBe(0);
          });
        }),
        { numRuns: 300 },
      );
    });
  }

  it('random bytes only ever raise StompCodecError', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...['SEND\n', 'content-length:', '5', '-1', ':', '\\', '\\c', '\n', '\r\n', '\0', 'a:b\n'].map((s) => Uint8Array.from(Buffer.from(s))))), { maxLength: 40 }),
        fc.constantFrom<StompVersion>('1.0', '1.1', '1.2'),
        (chunks, version) => {
          const parser = new FrameParser(() => {}, { maxFrameSize: 256, maxHeaders: 8, maxHeaderLineLength: 32 });
          parser.version = version;
          try {
            for (const c of chunks) parser.push(Buffer.from(c));
          } catch (e) {
            expect(e).toBeInstanceOf(StompCodecError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

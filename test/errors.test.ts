import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorMessage, ProtocolError, protocolError } from '../src/errors.js';
import { startBroker } from './helpers/broker.js';
import { RawStompSocket } from './helpers/raw-socket.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the error catalogue', () => {
  it('has a text for every code, and every code is raised somewhere (no dead entries)', () => {
    const code = sources(new URL('../src', import.meta.url).pathname)
      .filter((p) => !p.endsWith('/errors.ts'))
      .map((p) => readFileSync(p, 'utf8'))
      .join('\n');
    for (const c of ERROR_CODES) {
      expect(code.includes(`'${c}'`), `${c} is never raised`).toBe(true);
    }
    expect(errorMessage('STOMP_UNKNOWN_COMMAND', 'FOO')).toBe('Unknown STOMP action: FOO');
    const e = protocolError('STOMP_NO_TRANSACTION', 'tx1').withDetail('more');
    expect(e).toBeInstanceOf(ProtocolError);
    expect([e.code, e.message, e.detail]).toEqual(['STOMP_NO_TRANSACTION', 'Invalid transaction id: tx1', 'more']);
  });

  it("puts the code in the ERROR frame's error-code header beside ActiveMQ's message", async () => {
    const broker = await startBroker();
    const s = await RawStompSocket.connect(broker.port());
    await s.connect();
    s.write('FROB\n\n\0');
    const f = await s.next('ERROR');
    expect(f.headers.message).toBe('Unknown STOMP action: FROB');
    expect(f.headers['error-code']).toBe('STOMP_UNKNOWN_COMMAND');
    await s.waitClosed();
  });
});

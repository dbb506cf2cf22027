import { describe, expect, it } from 'vitest';
import { DEFAULT_BRIDGE_AUTHENTICATION } from '../../src/config/security.js';
import { Security } from '../../src/security/security.js';
import { isLoopback } from '../../src/transport/link.js';

describe('who may act as a network bridge', () => {
  it('knows a connection from this host by its remote address', () => {
    for (const local of ['tcp://127.0.0.1:5000', 'tcp://127.8.9.1:1', 'ws://[::1]:5000', 'tcp://::ffff:127.0.0.1:61613', 'memory://test']) expect(isLoopback(local), local).toBe(true);
    for (const remote of ['tcp://10.0.0.7:5000', 'tcp://172.28.1.1:1', 'ws://[2001:db8::1]:5000', 'tcp://::ffff:192.168.1.2:61613', 'tcp://1270.0.0.1:1']) expect(isLoopback(remote), remote).toBe(false);
  });

  it('without users or secret: a connection from this host only', () => {
    const s = new Security({}, DEFAULT_BRIDGE_AUTHENTICATION);
    const nobody = { user: '', groups: new Set<string>() };
    expect(s.mayBridge(nobody, undefined, true)).toBe(true);
    expect(s.mayBridge(nobody, undefined, false)).toBe(false);
  });

  it('with a secret: whoever presents it, from anywhere, and nobody else', () => {
    const s = new Security({}, { groups: 'bridges', secret: 'sesame' });
    const nobody = { user: '', groups: new Set<string>() };
    expect(s.mayBridge(nobody, 'sesame', false)).toBe(true);
    expect(s.mayBridge(nobody, 'sesam', true)).toBe(false);
    expect(s.mayBridge(nobody, undefined, true)).toBe(false);
  });

  it('with users: a user of a bridge group, whatever secret or address', () => {
    const s = new Security({ simpleAuthenticationPlugin: { users: [] } }, { groups: 'bridges, brokers', secret: 'sesame' });
    expect(s.mayBridge({ user: 'b', groups: new Set(['brokers']) }, undefined, false)).toBe(true);
    expect(s.mayBridge({ user: 'a', groups: new Set(['users']) }, 'sesame', true)).toBe(false);
  });
});

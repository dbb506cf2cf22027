import { describe, expect, it } from 'vitest';
import { DEFAULT_FAILOVER, parseBrokerAddress, parseConnectTarget, reconnectDelay } from '../../src/client/failover-uri.js';
import { ConfigError } from '../../src/errors.js';

describe('client URIs', () => {
  it('reads stomp://, ws:// and ActiveMQ\'s tcp:// addresses, with default ports, and their TLS forms', () => {
    expect(parseBrokerAddress('stomp://h:1')).toEqual({ scheme: 'stomp', tls: false, host: 'h', port: 1, url: 'stomp://h:1' });
    expect(parseBrokerAddress('tcp://h').port).toBe(61613);
    expect(parseBrokerAddress('ws://0.0.0.0/stomp')).toEqual({ scheme: 'ws', tls: false, host: '127.0.0.1', port: 61614, url: 'ws://127.0.0.1:61614/stomp' });
    expect(parseBrokerAddress('ssl://h:2')).toEqual({ scheme: 'stomp', tls: true, host: 'h', port: 2, url: 'stomp+ssl://h:2' });
    expect(parseBrokerAddress('stomp+ssl://h:2').tls).toBe(true);
    expect(parseBrokerAddress('wss://h/stomp')).toEqual({ scheme: 'ws', tls: true, host: 'h', port: 61614, url: 'wss://h:61614/stomp' });
    expect(() => parseBrokerAddress('amqp://h:1')).toThrow(ConfigError);
  });

  it('reads failover:(...) with ActiveMQ\'s options and defaults', () => {
    const t = parseConnectTarget('failover:(stomp://a:1,stomp://b:2)?randomize=false&initialReconnectDelay=100&maxReconnectAttempts=3&timeout=5');
    expect(t.addresses.map((a) => a.url)).toEqual(['stomp://a:1', 'stomp://b:2']);
    expect(t.failover).toEqual({ ...DEFAULT_FAILOVER, randomize: false, initialReconnectDelay: 100, maxReconnectAttempts: 3 });
    expect(parseConnectTarget('stomp://a:1').failover).toBeNull();
    expect(() => parseConnectTarget('failover:(stomp://a:1)?randomise=false')).toThrow(/Invalid connect parameters: \{randomise=false\}/);
    expect(() => parseConnectTarget('static:(stomp://a:1)')).toThrow(ConfigError);
  });

  it('backs off as ActiveMQ\'s failover transport does', () => {
    const o = { ...DEFAULT_FAILOVER, initialReconnectDelay: 10, maxReconnectDelay: 100 };
    expect([0, 1, 2, 3, 4].map((a) => reconnectDelay(o, a))).toEqual([10, 20, 40, 80, 100]);
    expect(reconnectDelay({ ...o, useExponentialBackOff: false }, 4)).toBe(10);
  });
});

import { describe, expect, it } from 'vitest';
import { BUILTIN_TOPOLOGIES, parseTopology, planCluster } from '../../src/config/topology.js';

const plan = (name: string, basePort = 61611) =>
  planCluster(BUILTIN_TOPOLOGIES[name], { basePort, adminBasePort: 8161, host: '127.0.0.1', dataDir: '/data' });

describe('built-in topologies', () => {
  it('network: the seed ports (broker1 61611, broker2 61612, broker3 61613), edges with duplex connectors to the hub', () => {
    const p = plan('network');
    expect(p.map((b) => [b.name, b.stompUrl, b.adminUrl])).toEqual([
      ['broker1', 'stomp://127.0.0.1:61611', 'http://127.0.0.1:8161'],
      ['broker2', 'stomp://127.0.0.1:61612', 'http://127.0.0.1:8162'],
      ['broker3', 'stomp://127.0.0.1:61613', 'http://127.0.0.1:8163'],
    ]);
    expect(p[0].config.networkConnectors).toEqual([]);
    expect(p[1].config.networkConnectors).toEqual(['static:(stomp://127.0.0.1:61611)?duplex=true']);
    expect(p[2].config.networkConnectors).toEqual(['static:(stomp://127.0.0.1:61611)?duplex=true']);
    expect(new Set(p.map((b) => b.storeDir)).size).toBe(3);
  });

  it('master-slave: two brokers on one store directory', () => {
    const p = plan('master-slave', 7000);
    expect(p.map((b) => b.storeDir)).toEqual(['/data/kahadb', '/data/kahadb']);
    expect(p[0].sharesStoreWith).toEqual(['broker2']);
    expect(p[1].config.transportConnectors).toEqual(['stomp://127.0.0.1:7001']);
  });

  it('combined: the pair shares a store and the edges use failover: to both of its addresses', () => {
    const p = plan('combined');
    const byName = Object.fromEntries(p.map((b) => [b.name, b]));
    expect(byName.broker1a.storeDir).toBe(byName.broker1b.storeDir);
    expect(byName.broker2.config.networkConnectors).toEqual([`static:(failover:(${byName.broker1a.stompUrl},${byName.broker1b.stompUrl}))?duplex=true`]);
  });

  it('connects to 127.0.0.1 when the brokers listen on every interface', () => {
    const p = planCluster(BUILTIN_TOPOLOGIES.network, { basePort: 61611, adminBasePort: 8161, host: '0.0.0.0', dataDir: '/d' });
    expect(p[0].config.transportConnectors).toEqual(['stomp://0.0.0.0:61611']);
    expect(p[1].config.networkConnectors).toEqual(['static:(stomp://127.0.0.1:61611)?duplex=true']);
  });

  it('passes --lock-poll to every broker as lockAcquireSleepInterval', () => {
    const p = planCluster(BUILTIN_TOPOLOGIES['master-slave'], { basePort: 1, adminBasePort: 2, host: '127.0.0.1', dataDir: '/d', lockPoll: 1000 });
    expect(p.map((b) => b.config.locker?.lockAcquireSleepInterval)).toEqual([1000, 1000]);
  });
});

describe('topology files', () => {
  const chain = {
    name: 'chain',
    brokers: [
      { name: 'a' },
      { name: 'b', network: ['static:(${a})?networkTTL=2'] },
      { name: 'c', network: ['static:(${b})'], config: { persistent: false } },
    ],
  };

  it('turns a valid file into brokers, placeholders into addresses, persistent:false into no store', () => {
    const t = parseTopology(chain, 'chain.yml', 'x');
    expect(t.name).toBe('chain');
    const p = planCluster(t, { basePort: 5000, adminBasePort: 6000, host: '127.0.0.1', dataDir: '/d' });
    expect(p[1].config.networkConnectors).toEqual(['static:(stomp://127.0.0.1:5000)?networkTTL=2']);
    expect(p[2].config.networkConnectors).toEqual(['static:(stomp://127.0.0.1:5001)']);
    expect(p[2].storeDir).toBeNull();
  });

  it('names the file and the key for each mistake', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[], /t\.yml: must hold an object with a brokers list/],
      [{ brokers: [] }, /'brokers' must be a non-empty list/],
      [{ brokers: [{ name: 'a' }], nodes: 1 }, /unknown key 'nodes'/],
      [{ brokers: [{ name: 'a', port: 1 }] }, /unknown key 'brokers\[0\]\.port'/],
      [{ brokers: [{ name: 'a b' }] }, /brokers\[0\]\.name must be a name/],
      [{ brokers: [{ name: 'a' }, { name: 'a' }] }, /broker name 'a' is used twice/],
      [{ brokers: [{ name: 'a', network: 'static:(x)' }] }, /brokers\[0\]\.network must be a list/],
      [{ brokers: [{ name: 'a', network: ['static:(${zz})'] }] }, /refers to \$\{zz\}, which is not a broker of this topology \(a\)/],
      [{ brokers: [{ name: 'a', config: { brokerName: 'b' } }] }, /brokers\[0\]\.config\.brokerName is set by the cluster/],
      [{ brokers: [{ name: 'a', config: { prefetch: 'lots' } }] }, /brokers\[0\]\.config: /],
      [{ brokers: [{ name: 'a', store: '../etc' }] }, /brokers\[0\]\.store must be a directory name/],
    ];
    for (const [input, message] of bad) expect(() => parseTopology(input, 't.yml', 't'), JSON.stringify(input)).toThrow(message);
  });
});

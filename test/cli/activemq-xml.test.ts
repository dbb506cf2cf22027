/**
 * An existing activemq.xml runs unchanged: the blog's hub and edge files
 * (ActiveMQ 5.8's shape, OpenWire addresses included), with ActiveMQ's
 * placeholders and directories; what amq-sim does not do is listed once,
 * and a bad file is refused naming the file, line and element.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readActiveMqXml } from '../../src/cli/activemq-xml.js';
import { toActiveMqXml } from '../../src/cli/activemq-xml-writer.js';
import { resolveBrokerConfig } from '../../src/config/broker-config.js';
import { readBrokerConfigFile } from '../../src/cli/config-file.js';
import { StompClient, type ReceivedMessage } from '../../src/client/index.js';
import { ConfigError } from '../../src/errors.js';
import { eventually } from '../helpers/broker.js';
import { freePort, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

const fixture = (path: string) => new URL(`../fixtures/activemq-xml/${path}`, import.meta.url).pathname;
const HUB = fixture('hub/conf/activemq.xml');
const EDGE = fixture('edge/conf/activemq.xml');

describe('activemq.xml', () => {
  it('maps the broker, KahaDB, locker, connectors, policies and systemUsage with ActiveMQ\'s directories and placeholders', () => {
    const data = tempDir('xml-data');
    const { config, ignored } = readBrokerConfigFile(HUB, { ACTIVEMQ_DATA: data, OPENWIRE_PORT: '61616', STOMP_PORT: '61613' });
    expect(config).toMatchObject({
      brokerName: 'broker1',
      store: { directory: join(data, 'kahadb'), journalMaxFileLength: 32 * 1024 * 1024, journalDiskSyncStrategy: 'periodic' },
      tempDirectory: join(data, 'broker1', 'tmp_storage'),
      locker: { lockAcquireSleepInterval: 10_000, lockKeepAlivePeriod: 2000 },
      transportConnectors: ['tcp://127.0.0.1:61616?maximumConnections=1000&wireFormat.maxFrameSize=104857600', 'stomp://127.0.0.1:61613?transport.closeAsync=false'],
      policyEntries: [{ topic: '>', producerFlowControl: true, pendingMessageLimit: 1000 }, { queue: 'orders.>', memoryLimit: 1024 * 1024, maxPageSize: 100 }, { queue: '>' }],
      policy: { queuePrefetch: 500, prioritizedMessages: true, deadLetterStrategy: 'individual', deadLetterQueuePrefix: 'DLQ.', processExpired: false },
      systemUsage: { sendFailIfNoSpaceAfterTimeout: 3000, memoryUsage: { limit: 64 * 1024 * 1024 }, storeUsage: { limit: 1024 ** 3 }, tempUsage: { limit: 100 * 1024 * 1024 } },
    });
    expect(ignored).toEqual(
      expect.arrayContaining([
        '<broker advisorySupport>',
        '<broker/plugins/statisticsBrokerPlugin>',
        '<broker/shutdownHooks>',
        '<beans>/<import>',
        expect.stringMatching(/^<transportConnector uri="amqp:\/\/0\.0\.0\.0:5672/),
      ]),
    );
    // useJmx and the management context are read without a word.
    expect(ignored.some((i) => /useJmx|managementContext/.test(i))).toBe(false);
    // The base is the folder above conf/ when ACTIVEMQ_BASE is unset; ${lock.poll:10000} took its default.
    expect(readBrokerConfigFile(HUB, { OPENWIRE_PORT: '1', STOMP_PORT: '2' }).config.store!.directory).toBe(join(fixture('hub'), 'data', 'kahadb'));
  });

  it('turns network connector attributes and destination lists into the URI, listing the ones amq-sim does not have', () => {
    const { config, ignored } = readActiveMqXml(EDGE, readFileSync(EDGE, 'utf8'), { HUB_OPENWIRE_PORT: '61616', STOMP_PORT: '61613' });
    expect(config.networkConnectors).toEqual(['static:(tcp://localhost:61616)?name=to-hub&duplex=true&networkTTL=2&conduitSubscriptions=true&excludedDestinations=queue://local.>']);
    expect(config.persistent).toBe(false);
    expect(config.virtualTopics).toEqual([{ name: 'VirtualTopic.>', prefix: 'Consumer.*.', postfix: '', selectorAware: false, local: true }]);
    expect(ignored).toContain('<broker/networkConnectors/networkConnector suppressDuplicateQueueSubscriptions>');
  });

  it('round-trips: amq-sim config to-xml writes what the reader reads back to the same configuration, and config print shows it', async () => {
    const dir = tempDir('xml-round');
    const env = { ACTIVEMQ_DATA: join(dir, 'data'), OPENWIRE_PORT: '61616', STOMP_PORT: '61613' };
    const original = resolveBrokerConfig({
      ...readBrokerConfigFile(HUB, env).config,
      networkConnectors: ['static:(stomp://hub:61616)?duplex=true&networkTTL=2'],
      virtualTopics: [{ name: 'Events.>', prefix: 'App.*.', postfix: '.in', selectorAware: true, local: true }],
      schedulerSupport: true,
      plugins: { simpleAuthenticationPlugin: { users: [{ username: 'app', password: 'secret', groups: 'users' }] }, authorizationPlugin: { entries: [{ queue: '>', read: 'users', write: 'users', admin: 'users' }], tempDestinationAuthorizationEntry: { read: 'users', write: 'users', admin: 'users' } } },
    });
    const written = join(dir, 'activemq.xml');
    writeFileSync(written, toActiveMqXml(original));
    expect(toActiveMqXml(original)).toMatch(/<broker [^>]*schedulerSupport="true"/);
    const back = readBrokerConfigFile(written, {});
    expect(back.ignored).toEqual([]);
    const { tempDirectory: _a, ...expected } = original;
    const { tempDirectory: _b, ...actual } = resolveBrokerConfig(back.config);
    expect(actual).toEqual(expected);

    const yamlFile = join(dir, 'broker.yml');
    writeFileSync(yamlFile, 'brokerName: from-yaml\nsystemUsage:\n  memoryUsage: { limit: 32 mb }\n');
    const toXml = runCli(['config', 'to-xml', yamlFile]);
    expect(await toXml.waitExit()).toBe(0);
    expect(toXml.stdoutText.join('\n')).toContain('<broker xmlns="http://activemq.apache.org/schema/core" brokerName="from-yaml" persistent="true">');
    expect(toXml.stdoutText.join('\n')).toContain('<memoryUsage limit="33554432"/>');
    const print = runCli(['config', 'print', HUB], env);
    expect(await print.waitExit()).toBe(0);
    expect(print.stdoutText.join('\n')).not.toContain('pendingMessageLimitStrategy');
    expect(print.stdoutText[0]).toMatch(/^# Ignored \(not supported by amq-sim\): <broker advisorySupport>/);
    expect(print.stdoutText).toContain('brokerName: broker1');
  });

  it.each([
    ['malformed XML', '<beans><broker brokerName="x"></beans>', /activemq\.xml.*not valid XML at line 1, column \d+/],
    ['a bad value', '<beans>\n<broker>\n<persistenceAdapter>\n<kahaDB journalDiskSyncStrategy="SOMETIMES"/>\n</persistenceAdapter></broker></beans>', /activemq\.xml.*line 4, <kahaDB>: journalDiskSyncStrategy="sometimes" is not one of always, periodic, never/],
    ['an unknown placeholder', '<beans>\n<broker brokerName="${nobody.set.this}"/></beans>', /line 2, <broker>: no value for \$\{nobody\.set\.this\}/],
    ['a transport option ActiveMQ would refuse too', '<broker><transportConnectors>\n<transportConnector uri="stomp://0.0.0.0:1?maximumConnectons=5"/></transportConnectors></broker>', /line 2, <transportConnector>: Invalid connect parameters/],
    ['no broker', '<beans><bean class="x"/></beans>', /holds no <broker> element/],
  ])('refuses %s, naming the file and where', (_, xml, message) => {
    const file = join(tempDir('xml-bad'), 'activemq.xml');
    writeFileSync(file, xml);
    expect(() => readBrokerConfigFile(file, {})).toThrow(ConfigError);
    expect(() => readBrokerConfigFile(file, {})).toThrow(message);
  });

  it('runs the blog\'s hub and edge files as brokers: the edge bridges to the hub\'s OpenWire address, the hub refuses an OpenWire client with a clear message', async () => {
    const base = tempDir('xml-run');
    const [hubOpenWire, hubStomp, edgeStomp] = [await freePort(), await freePort(), await freePort()];
    const hub = runCli(['broker', '--config', HUB, '--activemq-data', join(base, 'hub'), '--log-format', 'json'], { OPENWIRE_PORT: String(hubOpenWire), STOMP_PORT: String(hubStomp) });
    await hub.waitForOutput(/Listening for connections at: stomp:\/\/127\.0\.0\.1/);
    const warning = hub.logs.find((l) => l.msg.startsWith('Not supported by amq-sim, ignored:'));
    expect(warning?.msg).toContain('<broker/plugins/statisticsBrokerPlugin>');
    expect(existsSync(join(base, 'hub', 'kahadb'))).toBe(true);

    const edge = runCli(['broker', '--config', EDGE, '--log-format', 'json'], { ACTIVEMQ_DATA: join(base, 'edge'), HUB_OPENWIRE_PORT: String(hubOpenWire), STOMP_PORT: String(edgeStomp) });
    await edge.waitForOutput(/Network connection between vm:\/\/broker2 and .*\(broker1\) has been established\./);

    const consumer = await StompClient.connect(`stomp://127.0.0.1:${edgeStomp}`);
    const got: ReceivedMessage[] = [];
    await consumer.subscribe('/queue/orders.eu', (m) => got.push(m));
    await new Promise((r) => setTimeout(r, 500));
    const producer = await StompClient.connect(`stomp://127.0.0.1:${hubStomp}`);
    for (let i = 0; i < 20; i++) await producer.sendWithReceipt('/queue/orders.eu', `order ${i}`, { persistent: 'true' });
    await eventually(() => got.length === 20, 10_000, 'the hub\'s messages on the edge');

    // An ActiveMQ OpenWire client's first frame: size, WireFormatInfo, "ActiveMQ".
    const openwire = net.connect(hubOpenWire, '127.0.0.1');
    await new Promise((r) => openwire.once('connect', r));
    let reply = '';
    openwire.on('data', (d: Buffer) => (reply += d.toString()));
    openwire.write(Buffer.concat([Buffer.from([0, 0, 0, 0xf0, 1]), Buffer.from('ActiveMQ'), Buffer.alloc(32)]));
    await new Promise((r) => openwire.once('close', r));
    expect(reply).toMatch(/^ERROR\n/);
    await hub.waitForOutput(/amq-sim speaks STOMP only/);
    for (const c of [consumer, producer]) c.destroy();
    for (const p of [edge, hub]) {
      p.signal('SIGTERM');
      expect(await p.waitExit(10_000)).toBe(0);
    }
  }, 40_000);
});

/**
 * `amq-sim cluster` from activemq.xml files, as the blog wrote them for
 * Docker: hostnames of containers, OpenWire addresses, one KahaDB directory
 * shared by a master/slave pair.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StompClient, type ReceivedMessage } from '../../src/client/index.js';
import { eventually } from '../helpers/broker.js';
import { freePort, freePortRange, runCli } from '../helpers/process.js';
import { tempDir } from '../helpers/temp-dir.js';

function brokerXml(name: string, body: string, attrs = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<beans xmlns="http://www.springframework.org/schema/beans">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="${name}" dataDirectory="\${activemq.data}" ${attrs}>
${body}
    <managementContext><managementContext createConnector="false"/></managementContext>
  </broker>
</beans>
`;
}

async function cluster(args: string[], env: Record<string, string> = {}) {
  const adminBase = await freePortRange(5);
  const p = runCli(['cluster', ...args, '--admin-base-port', String(adminBase), '--console-port', String(adminBase + 3), '--front-door-port', String(adminBase + 4), '--data', tempDir('xml-cluster-data'), '--log-format', 'pretty'], env);
  await p.waitForOutput(/^Ctrl-C stops every broker/, 30_000);
  return p;
}

describe('amq-sim cluster with activemq.xml files', () => {
  it('runs the blog\'s hub and edges from a folder: container hostnames dial the local broker on its OpenWire port, messages reach the edges', async () => {
    const dir = tempDir('blog-network');
    const [openwire, s1, s2, s3] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const edge = (name: string, stomp: number) =>
      brokerXml(name, `    <persistenceAdapter><kahaDB directory="\${activemq.data}/${name}/kahadb"/></persistenceAdapter>
    <networkConnectors>
      <networkConnector uri="static:(tcp://activemq-broker1:${openwire})" duplex="true"/>
    </networkConnectors>
    <transportConnectors>
      <transportConnector name="stomp" uri="stomp://0.0.0.0:${stomp}?transport.closeAsync=false"/>
    </transportConnectors>`);
    writeFileSync(join(dir, 'activemq-5.8.0-broker1.xml'), brokerXml('broker1', `    <persistenceAdapter><kahaDB directory="\${activemq.data}/broker1/kahadb"/></persistenceAdapter>
    <transportConnectors>
      <transportConnector name="openwire" uri="tcp://0.0.0.0:${openwire}?maximumConnections=1000&amp;wireFormat.maxFrameSize=104857600"/>
      <transportConnector name="amqp" uri="amqp://0.0.0.0:5672"/>
      <transportConnector name="stomp" uri="stomp://0.0.0.0:${s1}?transport.closeAsync=false"/>
    </transportConnectors>`));
    writeFileSync(join(dir, 'activemq-5.8.0-broker2.xml'), edge('broker2', s2));
    writeFileSync(join(dir, 'activemq-5.8.0-broker3.xml'), edge('broker3', s3));

    const c = await cluster([dir], { ACTIVEMQ_DATA: join(dir, 'data') });
    expect(c.stderr).toContain('[broker1] Not supported by amq-sim, ignored: <transportConnector uri="amqp://0.0.0.0:5672"> (amq-sim speaks STOMP)');
    expect(c.stdoutText.join('\n')).toMatch(/^broker2\s+\d+\s+stomp:\/\/127\.0\.0\.1:\d+\s+\S+\s+\S+\s+network → static:\(tcp:\/\/127\.0\.0\.1:\d+\)\?duplex=true$/m);
    await c.waitForOutput(/^\[broker2\]\s.*\(broker1\) has been established\./);
    await c.waitForOutput(/^\[broker3\]\s.*\(broker1\) has been established\./);

    const got: ReceivedMessage[] = [];
    const consumers = await Promise.all([s2, s3].map((port) => StompClient.connect(`stomp://127.0.0.1:${port}`)));
    for (const consumer of consumers) await consumer.subscribe('/queue/orders', (m) => got.push(m));
    await new Promise((r) => setTimeout(r, 800));
    const producer = await StompClient.connect(`stomp://127.0.0.1:${s1}`);
    for (let i = 0; i < 60; i++) await producer.sendWithReceipt('/queue/orders', `order ${i}`, { persistent: 'true' });
    await eventually(() => got.length === 60, 10_000, 'every message on an edge');
    expect(new Set(got.map((m) => m.text)).size).toBe(60);
    for (const x of [...consumers, producer]) x.destroy();
    c.signal('SIGINT');
    expect(await c.waitExit(20_000)).toBe(0);
  }, 60_000);

  it('makes two files that name one KahaDB directory a master/slave pair', async () => {
    const dir = tempDir('blog-pair');
    const shared = join(dir, 'kahadb');
    mkdirSync(join(dir, 'A'));
    mkdirSync(join(dir, 'B'));
    for (const [name, folder] of [['activemq-A', 'A'], ['activemq-B', 'B']] as const) {
      writeFileSync(join(dir, folder, `${name}.xml`), brokerXml(name, `    <persistenceAdapter>
      <kahaDB directory="${shared}"><locker><shared-file-locker lockAcquireSleepInterval="1000"/></locker></kahaDB>
    </persistenceAdapter>
    <transportConnectors><transportConnector name="stomp" uri="stomp://127.0.0.1:${await freePort()}"/></transportConnectors>`));
    }
    const c = await cluster([join(dir, 'A', 'activemq-A.xml'), join(dir, 'B', 'activemq-B.xml')]);
    expect(c.stdoutText.join('\n')).toMatch(/^activemq-A\s+.*master\/slave with activemq-B$/m);
    await c.waitForOutput(/^\[activemq-B\]\s.*is locked by another server\. This broker is now in slave mode/);
    c.signal('SIGINT');
    expect(await c.waitExit(20_000)).toBe(0);
  }, 60_000);
});

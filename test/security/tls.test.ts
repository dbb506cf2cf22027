/**
 * TLS connectors as ActiveMQ's stomp+ssl:// and wss://, with PEM files in
 * place of its key and trust stores: clients (ours, stomp.py, the CLI)
 * and network bridges dial them; needClientAuth asks for a certificate the
 * configured CA signed.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { StompClient, type ReceivedMessage } from '../../src/client/index.js';
import type { PartialBrokerConfig } from '../../src/config/broker-config.js';
import { readTlsFiles, type TlsMaterial } from '../../src/transport/tls.js';
import { eventually, startBroker, trackClient } from '../helpers/broker.js';
import { runCli } from '../helpers/process.js';
import { broker as networkBroker, bridgesUp, consumer, sendAll } from '../network/helpers.js';

const pem = (name: string) => new URL(`../fixtures/tls/${name}.pem`, import.meta.url).pathname;
const SSL_CONTEXT = { keyFile: pem('broker-key'), certFile: pem('broker'), caFile: pem('ca') };
const TRUST = readTlsFiles({ caFile: pem('ca'), certFile: null, keyFile: null });
const CLIENT_CERT = readTlsFiles({ caFile: pem('ca'), certFile: pem('client'), keyFile: pem('client-key') });

async function tlsBroker(query = '', extra: PartialBrokerConfig = {}): Promise<Broker> {
  return startBroker({ transportConnectors: [`stomp+ssl://127.0.0.1:0${query}`, `wss://127.0.0.1:0${query}`], sslContext: SSL_CONTEXT, ...extra });
}

async function roundTrip(url: string, tls: TlsMaterial): Promise<string> {
  const c = trackClient(await StompClient.connect(url, { tls, connectTimeout: 3000 }));
  const got: ReceivedMessage[] = [];
  await c.subscribe('/queue/tls', (m) => got.push(m));
  await c.sendWithReceipt('/queue/tls', `via ${url.split(':')[0]}`);
  await eventually(() => got.length === 1, 3000, 'the message back');
  return got[0].text;
}

async function refused(work: Promise<unknown>): Promise<boolean> {
  return work.then(
    () => false,
    () => true,
  );
}

function python(args: string[]): Promise<{ errors: string[]; bodies: string[]; cipher?: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', [new URL('../interop/fixtures/stomp_py_tls.py', import.meta.url).pathname, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

describe('TLS connectors', () => {
  it('serve stomp+ssl:// and wss:// to a client that trusts the CA, and nothing to one that does not', async () => {
    const b = await tlsBroker();
    const ssl = `stomp+ssl://127.0.0.1:${b.port('stomp+ssl')}`;
    const wss = `wss://127.0.0.1:${b.port('wss')}`;
    expect(await roundTrip(ssl, TRUST)).toBe('via stomp+ssl');
    expect(await roundTrip(wss, TRUST)).toBe('via wss');
    // Self-signed as far as the system's CAs go; and plain STOMP on the TLS port.
    expect(await refused(StompClient.connect(ssl, { connectTimeout: 2000 }))).toBe(true);
    expect(await refused(StompClient.connect(`stomp://127.0.0.1:${b.port('stomp+ssl')}`, { connectTimeout: 1000 }))).toBe(true);
    expect(await roundTrip(ssl, TRUST)).toBe('via stomp+ssl');
  });

  // stomp.py 8.0 (Debian's) over TLS 1.3 now and then never gets its CONNECT through, against any Node TLS server (a bare
  // tls.createServer shows it too; Python's own ssl module does not): it is tested over TLS 1.2, set with ActiveMQ's
  // transport.enabledProtocols.
  it('serve stomp.py (a real client library) with its own TLS settings', async () => {
    const b = await tlsBroker('?transport.enabledProtocols=TLSv1.2');
    const result = await python([String(b.port('stomp+ssl')), pem('ca')]);
    expect(result).toMatchObject({ errors: [], bodies: ['over tls'] });
    expect(result.cipher).toBe('TLSv1.2');
  });

  it('with needClientAuth=true take only clients whose certificate the CA signed', async () => {
    const b = await tlsBroker('?needClientAuth=true');
    const ssl = `stomp+ssl://127.0.0.1:${b.port('stomp+ssl')}`;
    expect(await roundTrip(ssl, CLIENT_CERT)).toBe('via stomp+ssl');
    expect(await roundTrip(`wss://127.0.0.1:${b.port('wss')}`, CLIENT_CERT)).toBe('via wss');
    expect(await refused(StompClient.connect(ssl, { tls: TRUST, connectTimeout: 2000 }))).toBe(true);
    const stranger = readTlsFiles({ caFile: pem('ca'), certFile: pem('stranger'), keyFile: pem('stranger-key') });
    expect(await refused(StompClient.connect(ssl, { tls: stranger, connectTimeout: 2000 }))).toBe(true);
    // stomp.py 8.0 cannot be the client here: it first fetches the server certificate without presenting its own
    // (its issue #373), which a broker that needs client certificates refuses.
  });

  it('refuse to start without a key and certificate, naming what is missing', async () => {
    await expect(startBroker({ transportConnectors: ['stomp+ssl://127.0.0.1:0'] })).rejects.toThrow('needs sslContext.keyFile and sslContext.certFile');
    await expect(startBroker({ transportConnectors: ['stomp+ssl://127.0.0.1:0'], sslContext: { ...SSL_CONTEXT, keyFile: '/nonexistent.pem' } })).rejects.toThrow("'sslContext.keyFile' must be a readable PEM file");
  });

  it('carry a network bridge: the edge dials the hub\'s stomp+ssl:// with its own sslContext', async () => {
    const hub = await networkBroker('hub', [], { transportConnectors: ['stomp://127.0.0.1:0', 'stomp+ssl://127.0.0.1:0?needClientAuth=true'], sslContext: SSL_CONTEXT });
    const edge = await networkBroker('edge', [`static:(stomp+ssl://127.0.0.1:${hub.port('stomp+ssl')})`], {
      sslContext: { keyFile: pem('client-key'), certFile: pem('client'), caFile: pem('ca') },
    });
    await bridgesUp(edge);
    const onHub = await consumer(hub, '/queue/secured');
    await eventually(() => (edge.status().network as { bridges: Array<{ demand: { forwarding: unknown[] } }> }).bridges[0].demand.forwarding.length > 0, 5000, 'demand across the TLS bridge');
    await sendAll(edge, '/queue/secured', 50);
    await eventually(() => onHub.got.length === 50, 5000, 'all 50 over TLS');
  });

  it('are dialled by amq-sim produce and consume with --ca', async () => {
    const b = await tlsBroker();
    const url = `stomp+ssl://127.0.0.1:${b.port('stomp+ssl')}`;
    const produce = runCli(['produce', '--url', url, '--ca', pem('ca'), '--destination', '/queue/cli-tls', '--count', '5']);
    expect(await produce.waitExit()).toBe(0);
    const consume = runCli(['consume', '--url', url, '--ca', pem('ca'), '--destination', '/queue/cli-tls', '--count', '5']);
    expect(await consume.waitExit()).toBe(0);
    expect(b.router.queues.get('queue://cli-tls')?.size).toBe(0);
    const untrusted = runCli(['consume', '--url', url, '--destination', '/queue/cli-tls', '--count', '1']);
    expect(await untrusted.waitExit()).not.toBe(0);
  });
});

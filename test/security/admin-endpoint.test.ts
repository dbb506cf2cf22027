/**
 * The admin endpoint changes a running broker (fault injection): it must
 * not be usable from another web page the operator has open, nor by anyone
 * on the network without credentials, nor be crashed by a large body.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { ConfigError } from '../../src/errors.js';
import { hashPassword } from '../../src/security/password.js';
import { startBroker } from '../helpers/broker.js';

const BASIC = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request, as a browser or curl would make it (fetch hides Origin and Sec-Fetch-*). */
function request(port: number, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function adminBroker(): Promise<{ broker: Broker; port: number }> {
  const broker = await startBroker({ admin: 'http://127.0.0.1:0', adminUser: 'admin', adminPassword: hashPassword('s3cret'), networkConnectors: [] });
  return { broker, port: broker.adminPort! };
}

const JSON_POST = { 'content-type': 'application/json' };

describe('the admin endpoint', () => {
  it('asks for credentials on /api/* and leaves /health open for health checks', async () => {
    const { port } = await adminBroker();
    expect((await request(port, 'GET', '/health')).status).toBe(200);
    const anonymous = await request(port, 'GET', '/api/status');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm="amq-sim"/);
    expect((await request(port, 'GET', '/api/status', { authorization: BASIC('admin', 'guess') })).status).toBe(401);
    expect((await request(port, 'GET', '/api/status', { authorization: BASIC('root', 's3cret') })).status).toBe(401);
    const ok = await request(port, 'GET', '/api/status', { authorization: BASIC('admin', 's3cret') });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).role).toBe('master');
    expect((await request(port, 'POST', '/api/network/heal', JSON_POST, '{}')).status).toBe(401);
  });

  it('takes commands only as JSON from its own origin: a form post or another site\'s page is refused before anything runs', async () => {
    const { port } = await adminBroker();
    const auth = { authorization: BASIC('admin', 's3cret') };
    // What a cross-site <form> can send without a preflight.
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, 'content-type': 'text/plain' }, '{}')).status).toBe(415);
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b')).status).toBe(415);
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, origin: 'http://evil.example' }, '{}')).status).toBe(403);
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, origin: 'null' }, '{}')).status).toBe(403);
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, 'sec-fetch-site': 'cross-site' }, '{}')).status).toBe(403);
    // The same request from the endpoint's own origin reaches the broker (which has no network connectors: 404 from it, not from the guard).
    const own = await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' }, '{}');
    expect(own.status).toBe(404);
    expect(JSON.parse(own.body).code).toBe('ADMIN_NOT_FOUND');
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST }, '["not", "an object"]')).status).toBe(400);
  });

  it('refuses a large body by its length or as it streams in, and goes on serving', async () => {
    const { port } = await adminBroker();
    const auth = { authorization: BASIC('admin', 's3cret') };
    expect((await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, 'content-length': 600 * 1024 * 1024 })).status).toBe(413);
    const streamed = await request(port, 'POST', '/api/network/stall', { ...auth, ...JSON_POST, 'transfer-encoding': 'chunked' }, Buffer.alloc(64 * 1024, 0x20)).catch((err: Error) => ({ status: 0, body: err.message }));
    // Either the 413 arrives or the socket is cut while the rest is still being written: never a 200.
    expect([0, 413]).toContain(streamed.status);
    expect((await request(port, 'GET', '/api/status', auth)).status).toBe(200);
  });

  it('will not listen beyond loopback without credentials', async () => {
    const err = await startBroker({ admin: 'http://0.0.0.0:0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('reachable from other hosts: set adminUser and adminPassword');
  });
});

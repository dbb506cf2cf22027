/**
 * The broker's admin endpoint (`--admin http://127.0.0.1:8161`): JSON status
 * for `amq-sim status` and health checks, and commands for extensions (the
 * network connectors' fault injection). Open while the broker is a slave too,
 * so a container health check can tell a waiting slave from a dead process.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminError, AmqSimError } from '../errors.js';

export interface AdminHandlers {
  status(): unknown;
  health(): { ok: boolean; role: string };
  /** `POST /api/<extension>/<action>` with a JSON body of string arguments. */
  command(extension: string, action: string, args: Record<string, string>): Promise<unknown>;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The most an admin request body may hold: its commands take a few short arguments. */
export const MAX_ADMIN_BODY = 64 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

export async function listenAdmin(host: string, port: number, handlers: AdminHandlers): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/api/status') return send(res, 200, handlers.status());
    if (req.method === 'GET' && path === '/health') {
      const h = handlers.health();
      return send(res, h.ok ? 200 : 503, h);
    }
    const m = /^\/api\/([\w-]+)\/([\w-]+)$/.exec(path);
    if (req.method === 'POST' && m) {
      let body = '';
      let refused = false;
      req.on('data', (d: Buffer) => {
        if (refused) return;
        body += d.toString();
        if (body.length <= MAX_ADMIN_BODY) return;
        refused = true;
        body = '';
        res.setHeader('connection', 'close');
        send(res, 413, { error: `request body larger than ${MAX_ADMIN_BODY} bytes` });
        req.destroy();
      });
      req.on('end', () => {
        if (refused) return;
        let args: Record<string, string>;
        try {
          args = body ? (JSON.parse(body) as Record<string, string>) : {};
        } catch {
          return send(res, 400, { error: 'body is not JSON' });
        }
        handlers.command(m[1], m[2], args).then(
          (result) => send(res, 200, result ?? { ok: true }),
          (err: Error) => send(res, err instanceof AdminError ? err.status : 500, { error: err.message, code: err instanceof AmqSimError ? err.code : undefined }),
        );
      });
      return;
    }
    send(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

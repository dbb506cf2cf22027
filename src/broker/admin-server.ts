/**
 * The broker's admin endpoint (`--admin http://127.0.0.1:8161`): JSON status
 * for `amq-sim status` and health checks, and commands for extensions (the
 * network connectors' fault injection). Open while the broker is a slave too,
 * so a container health check can tell a waiting slave from a dead process.
 *
 * Guarded as a web page cannot get past: `/api/*` takes HTTP Basic
 * credentials when they are set; a command (POST) must be
 * `application/json` (which a page can send cross-site only after a CORS
 * preflight, which is never answered) and must not come from another origin;
 * bodies are capped. `/health` stays open for health checks (`/health?role=master`
 * answers 200 only from the broker that serves now: readiness). `/` is the
 * console (src/console), `/metrics` Prometheus' view.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminError, AmqSimError } from '../errors.js';
import { verifyPassword } from '../security/password.js';
import { listen } from '../util/listen.js';

export interface AdminHandlers {
  status(): unknown;
  /** `GET /metrics`: Prometheus text (none: 404). */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** `GET /` and `/console/*`: the console's files; null when there is no such file. */
  asset(path: string): { type: string; body: Buffer } | null;
  health(): { ok: boolean; role: string };
  /** `POST /api/<extension>/<action>` with a JSON body of string arguments. */
  command(extension: string, action: string, args: Record<string, string>): Promise<unknown>;
}

/** Who may use `/api/*` (HTTP Basic); the password may be hashed (`amq-sim hash-password`). */
export interface AdminCredentials {
  user: string;
  password: string;
}

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/** The most an admin request body may hold: its commands take a few short arguments. */
export const MAX_ADMIN_BODY = 8 * 1024;

/** The realm a browser or curl is asked to log in to. */
const REALM = 'amq-sim';

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

async function authenticated(req: http.IncomingMessage, credentials: AdminCredentials | null): Promise<boolean> {
  if (!credentials) return true;
  const m = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== credentials.user) return false;
  return verifyPassword(credentials.password, decoded.slice(colon + 1));
}

/** Why a command may not come in this way: another site's page, a form post, too big. Null when it may. */
function commandRefusal(req: http.IncomingMessage): [number, string] | null {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const crossSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  if (crossSite || (origin !== undefined && originHost(origin) !== req.headers.host)) return [403, 'cross-origin requests are refused'];
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') return [415, 'commands take a JSON body: content-type: application/json'];
  if (Number(req.headers['content-length'] ?? 0) > MAX_ADMIN_BODY) return [413, `request body larger than ${MAX_ADMIN_BODY} bytes`];
  return null;
}

/** `http://host:port` → `host:port`; null for `null` (sandboxed pages, file://) or anything unreadable. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host || null;
  } catch {
    return null;
  }
}

function readCommand(req: http.IncomingMessage, res: http.ServerResponse, run: (args: Record<string, string>) => void): void {
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
    let args: unknown;
    try {
      args = body ? JSON.parse(body) : {};
    } catch {
      return send(res, 400, { error: 'body is not JSON' });
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args) || Object.values(args).some((v) => typeof v !== 'string')) {
      return send(res, 400, { error: 'body must be a JSON object of strings' });
    }
    run(args as Record<string, string>);
  });
}

export async function listenAdmin(host: string, port: number, handlers: AdminHandlers, credentials: AdminCredentials | null = null): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (req.method === 'GET' && path === '/health') {
      const h = handlers.health();
      // `?role=master`: a readiness check (Kubernetes, front doors) that only the broker serving now passes.
      const role = new URLSearchParams(query).get('role');
      return send(res, h.ok && (role === null || role === h.role) ? 200 : 503, h);
    }
    const refusal = req.method === 'POST' ? commandRefusal(req) : req.method === 'GET' ? null : ([405, `method ${req.method} not allowed`] as [number, string]);
    if (refusal) {
      res.setHeader('connection', 'close');
      send(res, refusal[0], { error: refusal[1] });
      req.destroy();
      return;
    }
    void authenticated(req, credentials).then((ok) => {
      if (!ok) {
        res.setHeader('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
        return send(res, 401, { error: 'credentials required: the admin user and password (HTTP Basic)' });
      }
      if (req.method === 'GET' && path === '/api/status') {
        return void Promise.resolve(handlers.status()).then(
          (s) => send(res, 200, s),
          (err: Error) => send(res, 500, { error: err.message }),
        );
      }
      if (req.method === 'GET' && path === '/metrics' && handlers.metrics) {
        return void handlers.metrics().then(
          (m) => {
            res.writeHead(200, { 'content-type': m.contentType });
            res.end(m.body);
          },
          (err: Error) => send(res, 500, { error: err.message }),
        );
      }
      const asset = req.method === 'GET' ? handlers.asset(path) : null;
      if (asset) {
        // Scripts from this origin only, and no framing by another page (clickjacking the fault buttons).
        res.writeHead(200, { 'content-type': asset.type, 'content-security-policy': "default-src 'self'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' });
        return res.end(asset.body);
      }
      const m = /^\/api\/([\w-]+)\/([\w-]+)$/.exec(path);
      if (req.method === 'POST' && m) {
        return readCommand(req, res, (args) =>
          handlers.command(m[1], m[2], args).then(
            (result) => send(res, 200, result ?? { ok: true }),
            (err: Error) => send(res, err instanceof AdminError ? err.status : 500, { error: err.message, code: err instanceof AmqSimError ? err.code : undefined }),
          ),
        );
      }
      send(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    });
  });
  await listen(server, { host, port });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

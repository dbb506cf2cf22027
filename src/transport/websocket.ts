import { isUtf8 } from 'node:buffer';
import { createServer as createHttpServer } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { WebSocket, WebSocketServer } from 'ws';
import { withHeadAndBody } from '../stomp/index.js';
import type { Link, LinkHandlers } from './link.js';
import type { ListeningServer } from './tcp.js';
import type { TlsMaterial } from './tls.js';
import { listen } from '../util/listen.js';

/** Subprotocols in order of preference (ActiveMQ offers the same). */
const STOMP_SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp', 'stomp'];

/**
 * STOMP over WebSocket. Each WebSocket message in (text or binary) is fed to
 * the parser as bytes; each frame out is one message, text when it is valid
 * UTF-8 and binary otherwise.
 */
export class WebSocketLink implements Link {
  readonly scheme = 'ws';
  private handlers: LinkHandlers | null = null;
  private pendingBytes = 0;
  private waitingForDrain = false;

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    private readonly highWater: number,
  ) {}

  get backlog(): number {
    return this.pendingBytes;
  }

  start(handlers: LinkHandlers): void {
    this.handlers = handlers;
    this.ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
      handlers.data(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    this.ws.on('error', () => {
      /* reported through 'close' */
    });
    this.ws.on('close', () => handlers.closed());
  }

  write(data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.pendingBytes += data.length;
    this.ws.send(data, { binary: !isUtf8(data) }, () => {
      this.pendingBytes -= data.length;
      if (this.waitingForDrain && this.pendingBytes < this.highWater / 2) {
        this.waitingForDrain = false;
        this.handlers?.drain();
      }
    });
    if (this.pendingBytes >= this.highWater) this.waitingForDrain = true;
  }

  writeFrame(head: string, body: Buffer): void {
    this.write(withHeadAndBody(head, body));
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

/** Opens a STOMP-over-WebSocket connection to a broker (the client side of a WebSocketLink); `secure` for wss://. */
export function dialWebSocket(url: string, highWater: number, secure?: TlsMaterial): Promise<WebSocketLink> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, STOMP_SUBPROTOCOLS, secure ?? {});
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => {
      ws.off('error', reject);
      resolve(new WebSocketLink(ws, url, highWater));
    });
    ws.once('error', reject);
  });
}

/** Listens for STOMP over WebSocket, over TLS (wss://) when `secure` is given. */
export async function listenWebSocket(
  host: string,
  port: number,
  maxPayload: number,
  highWater: number,
  accept: (link: Link) => void,
  onError: (err: NodeJS.ErrnoException) => void,
  secure?: TlsOptions,
): Promise<ListeningServer> {
  const http = secure ? https.createServer({ ...secure, handshakeTimeout: 10_000 }) : createHttpServer();
  http.on('tlsClientError', () => {});
  http.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end('This is a STOMP over WebSocket endpoint: upgrade required\n');
  });
  const server = new WebSocketServer({
    server: http,
    maxPayload,
    perMessageDeflate: false,
    handleProtocols: (offered) => STOMP_SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  await listen(http, { host, port });
  http.on('error', onError);
  const scheme = secure ? 'wss' : 'ws';
  server.on('connection', (ws, req) => {
    (req.socket as Socket).setNoDelay(true);
    accept(new WebSocketLink(ws, `${scheme}://${req.socket.remoteAddress}:${req.socket.remotePort}`, highWater));
  });
  return {
    port: (http.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

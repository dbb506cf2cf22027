/**
 * One client's byte stream, whatever carries it (TCP, WebSocket, an
 * in-process pipe). The STOMP connection reads and writes frames through it
 * and knows nothing else of the transport.
 */
export interface LinkHandlers {
  data(chunk: Buffer): void;
  /** The outgoing backlog has drained after `backlog` grew. */
  drain(): void;
  closed(error?: Error): void;
}

export interface Link {
  /** `stomp` or `ws`: the scheme of the connector that accepted it. */
  readonly scheme: string;
  readonly remoteAddress: string;
  /** Bytes written but not yet handed to the OS. */
  readonly backlog: number;
  start(handlers: LinkHandlers): void;
  /** Writes bytes that are one whole frame or one heart-beat. */
  write(data: Buffer): void;
  /** Writes one frame given as its head (command, headers, blank line) and body; the link adds the frame end (NUL, EOL). */
  writeFrame(head: string, body: Buffer): void;
  /** Producer flow control: stop and restart reading from the peer. */
  pauseReading(): void;
  resumeReading(): void;
  /** Flushes what was written, then closes. */
  end(): void;
  /** Closes at once, dropping what was not written. */
  destroy(): void;
}

/** Whether a link's remote address (`tcp://127.0.0.1:5000`, `ws://[::1]:5000`, `memory://…`) is this host. */
export function isLoopback(remoteAddress: string): boolean {
  if (remoteAddress.startsWith('memory:')) return true;
  return isLoopbackHost(/^\w+:\/\/\[?([^\]]*?)\]?:\d+$/.exec(remoteAddress)?.[1] ?? '');
}

/** Whether a host name or address (`127.0.0.1`, `::1`, `localhost`) can be reached only from this host. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(::ffff:)?127\./.test(host);
}

/** Backlog above which a connection stops taking new messages until it drains. */
export const BACKLOG_HIGH_WATER = 512 * 1024;

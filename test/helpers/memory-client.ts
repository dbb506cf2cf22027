import type { Broker } from '../../src/broker/broker.js';
import { parseTransportUri } from '../../src/broker/connector-uri.js';
import { type Frame, FrameParser, type StompVersion } from '../../src/stomp/index.js';
import type { Link } from '../../src/transport/link.js';
import { linkPair } from '../../src/transport/memory.js';

/**
 * A client end of an in-memory link to a broker (broker.handle): raw bytes
 * out, frames in, no socket. Bytes move on the event loop's immediates, so
 * with fake timers `vi.advanceTimersByTime` drives the conversation.
 */
export class MemoryClient {
  readonly frames: Frame[] = [];
  closed = false;
  private readonly parser = new FrameParser((f) => this.frames.push(f));
  /** Bytes received, heart-beats included. */
  received = 0;

  private constructor(readonly link: Link) {
    link.start({
      data: (chunk) => {
        this.received += chunk.length;
        this.parser.push(chunk);
      },
      drain: () => {},
      closed: () => (this.closed = true),
    });
  }

  /** A client of `broker`, with the options of a transport connector URI (its `transport.*` and `wireFormat.*` settings) when given. */
  static attach(broker: Broker, connectorUri?: string): MemoryClient {
    const [brokerEnd, clientEnd] = linkPair();
    if (connectorUri) broker.handle(brokerEnd, parseTransportUri(connectorUri).connection);
    else broker.handle(brokerEnd);
    return new MemoryClient(clientEnd);
  }

  set version(v: StompVersion) {
    this.parser.version = v;
  }

  write(data: string): void {
    this.link.write(Buffer.from(data));
  }

  /** The frames of a command received so far. */
  all(command: string): Frame[] {
    return this.frames.filter((f) => f.command === command);
  }

  last(command: string): Frame | undefined {
    return this.all(command).at(-1);
  }

  close(): void {
    this.link.destroy();
  }
}

import { protocolError } from '../../errors.js';

/**
 * The bytes of incomplete frames that all connections hold together (a
 * frame is buffered whole before it is handled), with a cap: a client whose
 * frame would pass it gets an ERROR and is closed, so that a crowd of
 * half-sent large frames cannot take the broker's memory.
 */
export class FrameBuffers {
  private total = 0;
  private readonly byConnection = new Map<object, number>();

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.total;
  }

  /** A connection now buffers `bytes` of an incomplete frame (0: none); throws when that passes the cap. */
  update(connection: object, bytes: number): void {
    const before = this.byConnection.get(connection) ?? 0;
    if (bytes === before) return;
    if (bytes > before && this.total + bytes - before > this.limit) {
      this.total -= before;
      this.byConnection.delete(connection);
      throw protocolError('STOMP_FRAME_BUFFER_FULL', this.limit);
    }
    this.total += bytes - before;
    if (bytes === 0) this.byConnection.delete(connection);
    else this.byConnection.set(connection, bytes);
  }
}

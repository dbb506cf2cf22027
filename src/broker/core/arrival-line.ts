import type { WriteCallback } from '../../store/types.js';
import { Deque } from './deque.js';

interface Arrival {
  release: () => void;
  /** Stored (or needing no store), and free to go once those before it have gone. */
  ready: boolean;
  failed: boolean;
}

/**
 * The line messages wait in between arriving at a destination and reaching
 * its consumers. A persistent message reaches no consumer (and no bridge)
 * before it is stored, as in ActiveMQ, and nothing that arrived after it
 * passes it, so a producer's messages keep their order whatever their
 * persistence.
 */
export class ArrivalLine {
  private readonly line = new Deque<Arrival>();

  /** A message that needs no store write: released now, or behind those still being stored. */
  pass(release: () => void): void {
    if (this.line.size === 0) release();
    else this.line.push({ release, ready: true, failed: false });
  }

  /** A message being stored: the returned callback (for the store write) lets it through, or drops it if the write failed. */
  stored(release: () => void, done?: WriteCallback): WriteCallback {
    const arrival: Arrival = { release, ready: false, failed: false };
    this.line.push(arrival);
    return (err) => {
      arrival.ready = true;
      arrival.failed = err !== undefined;
      this.drain();
      done?.(err);
    };
  }

  private drain(): void {
    for (let a = this.line.peek(); a?.ready; a = this.line.peek()) {
      this.line.shift();
      if (!a.failed) a.release();
    }
  }
}

import type { WriteCallback } from '../../store/types.js';
import { Deque } from './deque.js';

interface Arrival {
  /** `position`: where the store put the message (stored ones). */
  release: (position?: number) => void;
  position: number | undefined;
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
    else this.line.push({ release, position: undefined, ready: true, failed: false });
  }

  /** A message being stored: the returned callback (for the store write) lets it through, or drops it if the write failed. */
  stored(release: (position?: number) => void, done?: WriteCallback): WriteCallback {
    const arrival: Arrival = { release, position: undefined, ready: false, failed: false };
    this.line.push(arrival);
    return (err, position) => {
      arrival.ready = true;
      arrival.failed = err !== undefined;
      arrival.position = position;
      this.drain();
      done?.(err, position);
    };
  }

  private drain(): void {
    for (let a = this.line.peek(); a?.ready; a = this.line.peek()) {
      this.line.shift();
      if (!a.failed) a.release(a.position);
    }
  }
}

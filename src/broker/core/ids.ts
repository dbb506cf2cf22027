import { hostname } from 'node:os';

/** Ids unique across brokers and restarts, in ActiveMQ's `ID:host-...` style. */
export class IdGenerator {
  readonly runId: string;
  private sequence = 0;

  constructor() {
    this.runId = `ID:${hostname()}-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 0xffff).toString(16)}`;
  }

  next(kind: string): string {
    return `${this.runId}:${kind}${++this.sequence}`;
  }
}

/**
 * Progress of `amq-sim produce` / `consume`: a bar redrawn in place on a
 * terminal, one plain line a second otherwise (logs, CI).
 */
const BAR_WIDTH = 30;
const REDRAW_MS = 100;
const LINE_MS = 1000;

export class Progress {
  private done = 0;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | null = null;
  private lastLine = -1;
  private lastAddAt = performance.now();
  private stoppedAt: number | null = null;

  constructor(
    private readonly verb: string,
    /** 0 when there is no end (consume until stopped). */
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.timer = setInterval(() => this.render(), out.isTTY ? REDRAW_MS : LINE_MS);
    this.timer.unref();
  }

  add(n = 1): void {
    this.done += n;
    this.lastAddAt = performance.now();
  }

  get count(): number {
    return this.done;
  }

  /** Seconds so far; once stopped, up to the last message (an idle timeout is not part of the rate). */
  get seconds(): number {
    const end = this.stoppedAt === null ? performance.now() : this.done > 0 ? this.lastAddAt : this.stoppedAt;
    return (end - this.startedAt) / 1000;
  }

  get rate(): number {
    return this.done / Math.max(this.seconds, 1e-3);
  }

  private render(): void {
    const rate = `${Math.round(this.rate)} msg/s`;
    if (this.out.isTTY) {
      const of = this.total > 0 ? `/${this.total}` : '';
      let bar = '';
      if (this.total > 0) {
        const filled = Math.min(BAR_WIDTH, Math.floor((this.done / this.total) * BAR_WIDTH));
        bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] `;
      }
      this.out.write(`\r${bar}${this.verb} ${this.done}${of}  ${rate}\x1b[K`);
      return;
    }
    if (this.done === this.lastLine) return;
    this.lastLine = this.done;
    this.out.write(`${this.verb} ${this.done}${this.total > 0 ? `/${this.total}` : ''} (${rate})\n`);
  }

  /** Stops redrawing and clears the bar, so the final line stands alone. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stoppedAt = performance.now();
    if (this.out.isTTY) this.out.write('\r\x1b[K');
  }
}

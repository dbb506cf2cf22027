/**
 * The progress watchdog of a bridge: every frame that asks for a RECEIPT
 * (a batch of forwarded messages, a subscription, an advisory request) is
 * expected to get it within `progressTimeout`. While nothing is waiting, it
 * sends a probe of its own (a transaction begun and aborted, with a receipt
 * on the ABORT), so a link that carries heart-beats but no frames (a bridge
 * that looks healthy and forwards nothing) is found even when no message is on its way. One that goes
 * unanswered means the bridge is stalled.
 */
export class ProgressWatchdog {
  private readonly waiting = new Map<string, { at: number; what: string; count: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly timeout: number,
    private readonly stalled: (reason: string) => void,
    private readonly probe: () => void,
  ) {
    if (timeout > 0) this.timer = setInterval(() => this.check(), Math.min(1000, timeout / 2));
  }

  /** A frame with receipt `id` left: `count` messages (0 for a request) depend on it. */
  expect(id: string, what: string, count = 0): void {
    this.waiting.set(id, { at: Date.now(), what, count });
  }

  answered(id: string): void {
    this.waiting.delete(id);
  }

  private check(): void {
    const oldest = this.waiting.values().next().value;
    if (!oldest) return this.probe();
    if (Date.now() - oldest.at < this.timeout) return;
    const seconds = ((Date.now() - oldest.at) / 1000).toFixed(1);
    let messages = 0;
    for (const w of this.waiting.values()) messages += w.count;
    this.stalled(messages > 0 ? `${messages} messages forwarded and not acknowledged for ${seconds} s` : `${oldest.what} unanswered for ${seconds} s`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.waiting.clear();
  }
}

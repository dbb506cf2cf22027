import type { Frame } from '../../stomp/index.js';
import { protocolError } from '../../errors.js';
import type { Refusal } from '../core/flow-control.js';

/** Bytes of held frames past which the connection stops reading until they go (TCP pushes back on the producer). */
export const HELD_BYTES_BUDGET = 4 * 1024 * 1024;

/** What the gate needs from its connection. */
export interface GateOwner {
  /** Handles a frame that had been held (again through the gate). */
  handleHeld(frame: Frame): void;
  pauseReading(paused: boolean): void;
  /** The connection fails with an ERROR (sendFailIfNoSpaceAfterTimeout). */
  fail(err: unknown, receiptId?: string): void;
}

export interface GateSettings {
  /** ActiveMQ `sendFailIfNoSpace`: refuse at once. */
  sendFailIfNoSpace: boolean;
  /** ActiveMQ `sendFailIfNoSpaceAfterTimeout` (ms, 0 = wait as long as it takes). */
  sendFailIfNoSpaceAfterTimeout: number;
}

/** Frames that must stay behind a held SEND: they depend on it having gone (or change what it means). */
const ORDERED = new Set(['SEND', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT']);

/**
 * Producer flow control for one connection. A SEND to a destination that is
 * full waits here, and so do the frames that must stay behind it; ACK, NACK,
 * SUBSCRIBE and UNSUBSCRIBE go on at once, so a connection that also
 * consumes drains what holds it back (ActiveMQ stops reading the whole
 * connection instead, and such a client deadlocks). The held SEND's RECEIPT
 * comes once it is stored. Held frames are bounded: past HELD_BYTES_BUDGET
 * the connection stops reading.
 */
export class SendGate {
  private held: Frame[] = [];
  private bytes = 0;
  private cancelWait: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private paused = false;

  constructor(
    private readonly owner: GateOwner,
    private readonly settings: GateSettings,
    /** A peer (another broker's bridge) is never refused, only held (as ActiveMQ's network connections). */
    private readonly isPeer: () => boolean,
  ) {}

  get holding(): boolean {
    return this.held.length > 0;
  }

  /** True when the frame must wait behind held SENDs: it is kept, in order. */
  queues(frame: Frame): boolean {
    if (this.held.length === 0 || !ORDERED.has(frame.command)) return false;
    this.keep(frame);
    return true;
  }

  /** A SEND found its destination full: refused at once (sendFailIfNoSpace), or held until there is room. */
  hold(frame: Frame, refusal: Refusal): void {
    if (this.settings.sendFailIfNoSpace && !this.isPeer()) throw protocolError('STOMP_RESOURCE_FULL', refusal.message);
    this.held.unshift(frame);
    this.bytes += frame.body.length;
    this.cancelWait = refusal.usage.whenRoom(() => this.release());
    const timeout = this.settings.sendFailIfNoSpaceAfterTimeout;
    if (timeout > 0 && !this.isPeer()) this.timer = setTimeout(() => this.owner.fail(protocolError('STOMP_RESOURCE_FULL', refusal.message), frame.headers.receipt), timeout);
    this.applyBudget();
  }

  private keep(frame: Frame): void {
    this.held.push(frame);
    this.bytes += frame.body.length;
    this.applyBudget();
  }

  /** Room again: the held frames are handled in order, until one is held again. */
  private release(): void {
    this.stopWaiting();
    const frames = this.held;
    this.held = [];
    this.bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      this.owner.handleHeld(frames[i]);
      if (this.held.length > 0) {
        for (const rest of frames.slice(i + 1)) this.keep(rest);
        return;
      }
    }
    this.applyBudget();
  }

  private applyBudget(): void {
    const over = this.bytes > HELD_BYTES_BUDGET;
    if (over === this.paused) return;
    this.paused = over;
    this.owner.pauseReading(over);
  }

  private stopWaiting(): void {
    this.cancelWait?.();
    this.cancelWait = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The connection ends: held frames are dropped (none of them was receipted). */
  close(): void {
    this.stopWaiting();
    this.held = [];
    this.bytes = 0;
  }
}

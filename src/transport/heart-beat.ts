/**
 * Heart-beating on one STOMP connection (STOMP 1.1+, "Heart-beating"), the
 * same for the broker's side and the client's.
 *
 * Writing: an EOL goes out when nothing else was written for half of
 * `sendEvery`, so the peer never waits longer than `sendEvery`.
 *
 * Reading: the peer is declared dead once nothing has arrived from it for
 * `silenceLimit`, measured from its last byte. ActiveMQ instead checks, every
 * read-check period, whether anything arrived since the previous check, which
 * drops a peer after anywhere between one and two periods of silence: a peer
 * that beats at exactly its interval is dropped whenever one beat is a few ms
 * late across a check. The broker sets `silenceLimit` to two read-check
 * periods (the most ActiveMQ tolerates), so a silent peer still goes, and a
 * peer that beats on time, even late by jitter or load, never does.
 *
 * A verdict of silence waits for the event loop's next I/O phase first: a
 * process that was itself stalled (a CPU hog, a long GC) reads what its peer
 * sent meanwhile before it blames the peer.
 */

export interface HeartBeatOptions {
  /** Write a heart-beat when nothing was written for this long (ms); 0 = never. */
  sendEvery: number;
  /** Declare the peer dead after this long without a byte from it (ms); 0 = never. */
  silenceLimit: number;
  /** Writes one heart-beat (a lone EOL). */
  beat(): void;
  /** The peer was silent for `silentFor` ms. */
  dead(silentFor: number): void;
}

export class HeartBeats {
  private lastRead = Date.now();
  private wrote = false;
  private writeTimer: NodeJS.Timeout | null = null;
  private readTimer: NodeJS.Timeout | null = null;
  private confirming = false;
  private readPaused = false;

  constructor(private readonly o: HeartBeatOptions) {
    if (o.sendEvery > 0) {
      this.writeTimer = setInterval(() => {
        if (!this.wrote) o.beat();
        this.wrote = false;
      }, Math.max(1, Math.floor(o.sendEvery / 2)));
    }
    if (o.silenceLimit > 0) this.readTimer = setInterval(() => this.checkSilence(), Math.max(1, Math.floor(o.silenceLimit / 4)));
  }

  /** Bytes arrived from the peer. */
  read(): void {
    this.lastRead = Date.now();
  }

  /**
   * Reading from the peer is paused on purpose (producer flow control): what
   * it sends waits unread in the socket, so its silence proves nothing.
   */
  pauseReading(paused: boolean): void {
    this.readPaused = paused;
    this.lastRead = Date.now();
  }

  /** Something other than a heart-beat was written. */
  written(): void {
    this.wrote = true;
  }

  private checkSilence(): void {
    if (this.confirming || this.readPaused || Date.now() - this.lastRead <= this.o.silenceLimit) return;
    this.confirming = true;
    setImmediate(() => {
      this.confirming = false;
      if (!this.readTimer || this.readPaused) return;
      const silentFor = Date.now() - this.lastRead;
      if (silentFor > this.o.silenceLimit) {
        this.stop();
        this.o.dead(silentFor);
      }
    });
  }

  stop(): void {
    if (this.writeTimer) clearInterval(this.writeTimer);
    if (this.readTimer) clearInterval(this.readTimer);
    this.writeTimer = this.readTimer = null;
  }
}

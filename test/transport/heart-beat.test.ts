import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeartBeats } from '../../src/transport/heart-beat.js';

describe('HeartBeats', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function beats(sendEvery: number, silenceLimit: number) {
    const events = { beats: 0, dead: [] as number[] };
    const hb = new HeartBeats({ sendEvery, silenceLimit, beat: () => events.beats++, dead: (ms) => events.dead.push(ms) });
    return { hb, events };
  }

  it('writes a beat only when nothing else was written in half the interval', () => {
    const { hb, events } = beats(1000, 0);
    vi.advanceTimersByTime(1000);
    expect(events.beats).toBe(2);
    for (let i = 0; i < 10; i++) {
      hb.written();
      vi.advanceTimersByTime(500);
    }
    expect(events.beats).toBe(2);
    hb.stop();
  });

  it('declares the peer dead once it was silent for the limit, measured from its last byte', () => {
    const { hb, events } = beats(0, 1000);
    vi.advanceTimersByTime(900);
    hb.read();
    vi.advanceTimersByTime(900);
    expect(events.dead).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(events.dead).toHaveLength(1);
    expect(events.dead[0]).toBeGreaterThan(1000);
  });

  it('waits for the I/O phase before its verdict: bytes read meanwhile save the peer', () => {
    const { hb, events } = beats(0, 1000);
    while (Date.now() < 1000 + 250) vi.advanceTimersToNextTimer();
    // The check past the limit has queued its confirmation; the socket's data arrives first.
    hb.read();
    vi.advanceTimersToNextTimer();
    expect(events.dead).toEqual([]);
    hb.stop();
  });

  it('does not count silence while reading is paused on purpose (flow control)', () => {
    const { hb, events } = beats(0, 1000);
    hb.pauseReading(true);
    vi.advanceTimersByTime(10_000);
    expect(events.dead).toEqual([]);
    hb.pauseReading(false);
    vi.advanceTimersByTime(900);
    expect(events.dead).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(events.dead).toHaveLength(1);
  });
});

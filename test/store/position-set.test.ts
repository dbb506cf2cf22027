import { describe, expect, it } from 'vitest';
import { PositionSet } from '../../src/store/position-set.js';

/** The same operations on a PositionSet and on a sorted array, compared at every step that reads. */
describe('PositionSet', () => {
  it('keeps positions in order across chunks through appends, out-of-order inserts and removals from the front and the middle', () => {
    const set = new PositionSet();
    const model = new Set<number>();
    const check = () => {
      const sorted = [...model].sort((a, b) => a - b);
      expect([...set]).toEqual(sorted);
      expect(set.size).toBe(sorted.length);
      expect(set.last).toBe(sorted.at(-1) ?? 0);
      for (const after of [0, 5_000, 12_345, 30_000]) {
        expect(set.countAfter(after)).toBe(sorted.filter((p) => p > after).length);
        expect(set.after(after, 50)).toEqual(sorted.filter((p) => p > after).slice(0, 50));
      }
    };
    for (let p = 2; p <= 40_000; p += 2) {
      set.add(p);
      model.add(p);
    }
    check();
    // Acknowledged from the front, and here and there in the middle (selectors, expiry).
    const remove = (p: number) => {
      expect(set.delete(p)).toBe(true);
      model.delete(p);
    };
    for (let p = 2; p <= 10_000; p += 2) remove(p);
    for (let p = 20_000; p <= 30_000; p += 6) remove(p);
    expect(set.delete(20_000)).toBe(false);
    check();
    // Rare out-of-order positions (a position that was removed comes back; an odd one lands mid-chunk).
    for (const p of [20_000, 12_345, 12_347, 1]) {
      expect(set.add(p)).toBe(true);
      model.add(p);
    }
    expect(set.add(12_345)).toBe(false);
    check();
    expect([set.has(12_345), set.has(12_349), set.has(20_006)]).toEqual([true, false, false]);
  });

  it('frees a chunk once all of it is gone', () => {
    const set = new PositionSet();
    for (let p = 1; p <= 5000; p++) set.add(p);
    for (let p = 1; p <= 5000; p++) set.delete(p);
    expect([set.size, set.last, [...set], set.after(0, 10)]).toEqual([0, 0, [], []]);
  });
});

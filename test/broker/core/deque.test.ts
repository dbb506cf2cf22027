import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from '../../../src/broker/core/deque.js';

describe('Deque', () => {
  it('behaves as an array under any mix of push, unshift, shift and removal from the middle', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ op: fc.constantFrom('push', 'unshift', 'shift') }), fc.record({ op: fc.constant('take'), every: fc.integer({ min: 1, max: 5 }) })), { maxLength: 400 }),
        (ops) => {
          const d = new Deque<number>(2);
          let model: number[] = [];
          let next = 0;
          for (const o of ops) {
            if (o.op === 'push') {
              d.push(next);
              model.push(next++);
            } else if (o.op === 'unshift') {
              d.unshift(next);
              model.unshift(next++);
            } else if (o.op === 'shift') {
              expect(d.shift()).toBe(model.shift());
            } else {
              const every = (o as { every: number }).every;
              let i = 0;
              d.scan(() => i++ % every === 0);
              model = model.filter((_, j) => j % every !== 0);
            }
            expect(d.size).toBe(model.length);
          }
          expect(d.toArray()).toEqual(model);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('compacts after taking most of a large deque from the middle', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 10_000; i++) d.push(i);
    d.scan((x) => x % 100 !== 0);
    expect(d.size).toBe(100);
    expect(d.toArray().slice(0, 3)).toEqual([0, 100, 200]);
  });
});

/** A job as the scheduler keeps it in memory: when it runs and where its record is. */
export interface Job {
  readonly id: string;
  /** When it runs next (ms). */
  at: number;
  /** Where the store keeps its record. */
  position: number | undefined;
  /** Waiting on the queue; being fired (off the queue); removed (left on the queue until it reaches the top). */
  state: 'waiting' | 'firing' | 'removed';
  /** Order of scheduling, so jobs due at the same time run in the order they came. */
  readonly seq: number;
}

/** Jobs by time (a binary heap): the next due one is at the top. */
export class JobQueue {
  private readonly heap: Job[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): Job | undefined {
    return this.heap[0];
  }

  push(job: Job): void {
    const h = this.heap;
    h.push(job);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(job, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = job;
  }

  pop(): Job | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= h.length) break;
      const right = left + 1;
      const child = right < h.length && before(h[right], h[left]) ? right : left;
      if (!before(h[child], last)) break;
      h[i] = h[child];
      i = child;
    }
    h[i] = last;
    return top;
  }

  /** Keeps only the jobs still waiting (after many were removed at once). */
  compact(): void {
    const waiting = this.heap.filter((j) => j.state === 'waiting');
    this.heap.length = 0;
    for (const j of waiting) this.push(j);
  }

  /** Drops removed jobs from the top, so `peek` shows one still waiting. */
  skipRemoved(): void {
    while (this.heap.length > 0 && this.heap[0].state !== 'waiting') this.pop();
  }
}

function before(a: Job, b: Job): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

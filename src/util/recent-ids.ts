/**
 * The last `capacity` ids seen, for duplicate detection: a set with the
 * oldest id forgotten when a new one comes in past the capacity.
 */
export class RecentIds {
  private readonly seen = new Set<string>();
  private readonly order: Array<string | undefined>;
  private next = 0;

  constructor(readonly capacity: number) {
    this.order = new Array(capacity);
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  add(id: string): void {
    if (this.seen.has(id)) return;
    const evicted = this.order[this.next];
    if (evicted !== undefined) this.seen.delete(evicted);
    this.order[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.seen.add(id);
  }

  /** Oldest first. */
  toArray(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const id = this.order[(this.next + i) % this.capacity];
      if (id !== undefined) out.push(id);
    }
    return out;
  }
}

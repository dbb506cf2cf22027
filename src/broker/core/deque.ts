/** A ring-buffer double-ended queue that can also drop items from the middle (left as holes). */
export class Deque<T> {
  private items: Array<T | undefined>;
  private head = 0;
  /** Slots in use, holes included. */
  private used = 0;
  private holes = 0;

  constructor(capacity = 16) {
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.used - this.holes;
  }

  push(item: T): void {
    if (this.used === this.items.length) this.grow();
    this.items[(this.head + this.used) % this.items.length] = item;
    this.used++;
  }

  unshift(item: T): void {
    if (this.used === this.items.length) this.grow();
    this.head = (this.head - 1 + this.items.length) % this.items.length;
    this.items[this.head] = item;
    this.used++;
  }

  peek(): T | undefined {
    this.skipHoles();
    return this.used === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    this.skipHoles();
    if (this.used === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.used--;
    return item;
  }

  /**
   * Visits items head to tail. `visit` returns true to take the item out;
   * returning null stops the walk.
   */
  scan(visit: (item: T) => boolean | null): void {
    const cap = this.items.length;
    let took = false;
    for (let i = 0; i < this.used; i++) {
      const idx = (this.head + i) % cap;
      const item = this.items[idx];
      if (item === undefined) continue;
      const take = visit(item);
      if (take === null) break;
      if (take) {
        this.items[idx] = undefined;
        this.holes++;
        took = true;
      }
    }
    if (!took) return;
    this.skipHoles();
    if (this.holes > 32 && this.holes * 2 > this.used) this.compact();
  }

  remove(item: T): boolean {
    let found = false;
    this.scan((x) => {
      if (found) return null;
      if (x === item) found = true;
      return x === item;
    });
    return found;
  }

  toArray(): T[] {
    const out: T[] = [];
    this.scan((x) => {
      out.push(x);
      return false;
    });
    return out;
  }

  clear(): void {
    this.items = new Array(16);
    this.head = 0;
    this.used = 0;
    this.holes = 0;
  }

  private skipHoles(): void {
    while (this.used > 0 && this.items[this.head] === undefined) {
      this.head = (this.head + 1) % this.items.length;
      this.used--;
      this.holes--;
    }
  }

  private compact(): void {
    const live: T[] = [];
    for (let i = 0; i < this.used; i++) {
      const item = this.items[(this.head + i) % this.items.length];
      if (item !== undefined) live.push(item);
    }
    this.items = new Array(Math.max(16, live.length * 2));
    for (let i = 0; i < live.length; i++) this.items[i] = live[i];
    this.head = 0;
    this.used = live.length;
    this.holes = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.used; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}

import type { PagedMessage, StoredBacklog } from '../../store/types.js';

/**
 * The part of a queue's messages that a store holds and memory does not
 * (ActiveMQ's store cursor). Positions grow in the order messages arrive:
 * every message up to `pagedUpTo` is in memory or gone; those after it up to
 * `arrivedUpTo` (the last whose write completed) are the backlog, `count` of
 * them, read in a page at a time.
 */
export class StoreCursor {
  private pagedUpTo = 0;
  private arrivedUpTo = 0;
  private storedOnly = 0;
  private paging = false;
  /** Writes under way whose messages will stay in the store only: later ones must not pass them. */
  writing = 0;

  constructor(private readonly backlog: StoredBacklog) {
    // Recovered: all of it is in the store, none in memory yet.
    this.storedOnly = backlog.size;
    this.arrivedUpTo = backlog.last;
  }

  /** Messages in the store only. */
  get count(): number {
    return this.storedOnly;
  }

  /** True while messages wait in the store only, or are being written there: a new one must queue behind them. */
  get busy(): boolean {
    return this.storedOnly > 0 || this.writing > 0;
  }

  /**
   * A message's write completed at `position`. Returns true when it stays in
   * the store only: behind a backlog, or because `keepInStore` says so.
   */
  arrived(position: number, keepInStore: boolean): boolean {
    if (position > this.arrivedUpTo) this.arrivedUpTo = position;
    if (this.storedOnly > 0 || keepInStore) {
      this.storedOnly++;
      return true;
    }
    if (position > this.pagedUpTo) this.pagedUpTo = position;
    return false;
  }

  /**
   * Reads the next page (at most `max`), unless one is being read or there
   * is nothing to read; `taken` gets each message, in order.
   */
  pageIn(max: number, taken: (p: PagedMessage) => void): Promise<void> | null {
    if (this.paging || this.storedOnly <= 0) return null;
    this.paging = true;
    const upTo = this.arrivedUpTo;
    // A failed read leaves it marked as paging: the caller allows the next one later (`retry`).
    return this.backlog.read(this.pagedUpTo, upTo, max).then((paged) => {
      this.paging = false;
      for (const p of paged) {
        if (p.position <= this.pagedUpTo) continue;
        this.pagedUpTo = p.position;
        taken(p);
      }
      if (paged.length === 0 && upTo > this.pagedUpTo) this.pagedUpTo = upTo;
      // Counted again from the store: some may have gone meanwhile (purge, damage).
      this.storedOnly = this.backlog.countAfter(this.pagedUpTo) - this.backlog.countAfter(this.arrivedUpTo);
    });
  }

  /** After a failed page-in: allows the next one. */
  retry(): void {
    this.paging = false;
  }

  /** What the backlog holds now, page by page, without taking anything (browsing). */
  browse(max: number): AsyncGenerator<PagedMessage> {
    return this.pages(this.pagedUpTo, this.arrivedUpTo, max);
  }

  private async *pages(after: number, upTo: number, max: number): AsyncGenerator<PagedMessage> {
    while (true) {
      const page = await this.backlog.read(after, upTo, max);
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1].position;
    }
  }

  /** Drops the backlog: returns the positions to purge from the store (after, up to), or null when there is none. */
  purge(): { after: number; upTo: number } | null {
    if (this.storedOnly === 0) return null;
    const range = { after: this.pagedUpTo, upTo: this.arrivedUpTo };
    this.storedOnly = 0;
    this.pagedUpTo = this.arrivedUpTo;
    return range;
  }
}

import { RecentIds } from '../util/recent-ids.js';

/** Default number of duplicate-detection ids remembered per destination (Artemis' `id-cache-size`). */
export const DEFAULT_DUPLICATE_ID_CACHE_SIZE = 20_000;

/**
 * The duplicate-detection ids (`_AMQ_DUPL_ID`) of the last messages added to
 * each destination, as a store keeps and recovers them.
 */
export class DuplicateWindows {
  private readonly windows = new Map<string, RecentIds>();

  constructor(private readonly capacity = DEFAULT_DUPLICATE_ID_CACHE_SIZE) {}

  remember(destination: string, id: string): void {
    let w = this.windows.get(destination);
    if (!w) this.windows.set(destination, (w = new RecentIds(this.capacity)));
    w.add(id);
  }

  forget(destination: string): void {
    this.windows.delete(destination);
  }

  /** Each destination's ids, oldest first. */
  toMap(): Map<string, string[]> {
    return new Map([...this.windows].map(([d, w]) => [d, w.toArray()]));
  }
}

import { ALWAYS_TRUSTED, type Cache, type CacheTrust } from '../ports/cache.js';

/**
 * A bounded map whose entries expire; oldest entries are evicted first when full. While `trust` says
 * invalidations may be missed it neither serves nor keeps anything, and entries from before the last
 * loss of trust are never served.
 */
export class TtlCache<V> implements Cache<V> {
  private readonly entries = new Map<string, { value: V; until: number; epoch: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
    private readonly trust: CacheTrust = ALWAYS_TRUSTED,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.until <= this.now() || hit.epoch !== this.trust.epoch || !this.trust.trusted()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Caches `value` for the TTL, or until `notAfter` (ms) when that comes first. */
  set(key: string, value: V, notAfter: number = Infinity): void {
    const until = Math.min(this.now() + this.ttlMs, notAfter);
    if (this.ttlMs <= 0 || until <= this.now() || !this.trust.trusted()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, until, epoch: this.trust.epoch });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.entries.delete(key);
  }
}

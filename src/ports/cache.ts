/**
 * Port: a bounded cache whose entries expire. Today's adapter is src/memory/ttl-cache.ts (this
 * process only); entries are dropped on the invalidation bus (src/ports/invalidation.ts).
 */
export interface Cache<V> {
  get(key: string): V | undefined;
  /** Caches `value` for the cache's TTL, or until `notAfter` (ms) when that comes first. */
  set(key: string, value: V, notAfter?: number): void;
  delete(key: string): void;
  deleteWhere(predicate: (value: V) => boolean): void;
}

/**
 * Whether caches may serve what they hold. While a process may be missing invalidations (its Redis
 * subscription is down, or its change-log poll has not succeeded lately) caches are bypassed: every
 * read goes to the store. `epoch` moves on every loss of trust, so nothing cached before it is ever
 * served again, even once trust is back.
 */
export interface CacheTrust {
  trusted(): boolean;
  readonly epoch: number;
}

/** For processes that do not serve (the CLI) and unit tests: nothing to miss. */
export const ALWAYS_TRUSTED: CacheTrust = { trusted: () => true, epoch: 0 };

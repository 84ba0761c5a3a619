/**
 * Port: a bounded cache whose entries expire. Today's adapter is src/memory/ttl-cache.ts (this
 * process only); entries are dropped on the invalidation bus (src/ports/invalidation.ts).
 */
export interface Cache<V> {
  get(key: string): V | undefined;
  /** Caches `value` for the cache's TTL, or until `notAfter` (ms) when that comes first. */
  set(key: string, value: V, notAfter?: number): void;
  deleteWhere(predicate: (value: V) => boolean): void;
}

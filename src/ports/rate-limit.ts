/**
 * Port: rate-limit state. Token buckets per key: the per-user request budget (src/http/request-limit.ts)
 * and the per-address login budget (src/identity/address-limit.ts). Today's adapter keeps the buckets
 * in this process (src/memory/rate-limiter.ts); a shared one (Redis, issue 12) makes the budgets hold
 * across processes. The failed-login back-off is persisted through the store port
 * (src/identity/throttle.ts).
 */
export interface TokenBuckets {
  /** Takes one token for `key`: 0 when taken, otherwise the whole seconds until one is available. */
  tryTake(key: string): number;
}

import { ERROR_CATALOGUE } from '@pqseal/sdk/catalogue';

/**
 * Port: rate-limit state. Token buckets per key: the per-user request budget (src/http/request-limit.ts)
 * and the per-address login budget (src/identity/address-limit.ts). Adapters: this process only
 * (src/memory/rate-limiter.ts), or Redis (src/redis/token-buckets.ts), whose budgets hold across
 * every process that shares it. The failed-login back-off is persisted through the store port
 * (src/identity/throttle.ts).
 */
export interface TokenBuckets {
  /**
   * Takes `cost` tokens (default 1; a batch request costs one per item) for `key`: 0 when taken,
   * otherwise the whole seconds until they are available. A cost above the burst is taken from a full
   * bucket, which then owes the rest (its tokens go below zero and refill at the same rate), so a batch
   * larger than the burst is served at most once per refill and the long-run rate still holds.
   * Rejects with `RateLimitUnavailableError` when the state cannot be reached: callers refuse (fail closed).
   */
  tryTake(key: string, cost?: number): Promise<number>;
}

/** The shared rate-limit state cannot be reached (Redis down): the request is refused, 503 with Retry-After. */
export class RateLimitUnavailableError extends Error {
  readonly code = 'RATE_LIMIT_UNAVAILABLE';
  constructor(options?: { cause?: unknown }) {
    super(ERROR_CATALOGUE.RATE_LIMIT_UNAVAILABLE.message, options);
    this.name = 'RateLimitUnavailableError';
  }
}

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
   * Takes one token for `key`: 0 when taken, otherwise the whole seconds until one is available.
   * Rejects with `RateLimitUnavailableError` when the state cannot be reached: callers refuse (fail closed).
   */
  tryTake(key: string): Promise<number>;
}

/** The shared rate-limit state cannot be reached (Redis down): the request is refused, 503 with Retry-After. */
export class RateLimitUnavailableError extends Error {
  readonly code = 'RATE_LIMIT_UNAVAILABLE';
  constructor(options?: { cause?: unknown }) {
    super(ERROR_CATALOGUE.RATE_LIMIT_UNAVAILABLE.message, options);
    this.name = 'RateLimitUnavailableError';
  }
}

import { ServiceError } from '../common/service-error.js';
import type { TokenBuckets } from '../ports/rate-limit.js';

/** The per-caller request budget of the API routes, over the rate-limit port. */
export class RequestLimiter {
  constructor(private readonly buckets: TokenBuckets) {}

  /**
   * Takes `cost` tokens for `key` (one per item of a batch) or throws a 429 ServiceError carrying
   * Retry-After (503 `RateLimitUnavailableError` when the state cannot be reached).
   */
  async take(key: string, cost = 1): Promise<void> {
    const retryAfterSeconds = await this.buckets.tryTake(key, cost);
    if (retryAfterSeconds > 0) throw new ServiceError('RATE_LIMITED', undefined, { retryAfterSeconds });
  }
}

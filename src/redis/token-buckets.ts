import { RateLimitUnavailableError, type TokenBuckets } from '../ports/rate-limit.js';
import type { RedisConnection } from './connection.js';

/**
 * Token buckets in Redis, shared by every process that uses the same Redis and prefix: the budgets
 * are global. Any failure to reach Redis is `RateLimitUnavailableError` (503): fail closed.
 */
export class RedisTokenBuckets implements TokenBuckets {
  constructor(
    private readonly redis: Pick<RedisConnection, 'takeToken'>,
    private readonly keyName: (key: string) => string,
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  async tryTake(key: string, cost = 1): Promise<number> {
    if (this.ratePerSecond <= 0) return 0;
    let waitMs: number;
    try {
      waitMs = Number(await this.redis.takeToken(this.keyName(key), this.ratePerSecond, this.burst, cost));
    } catch (cause) {
      throw new RateLimitUnavailableError({ cause });
    }
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
  }
}

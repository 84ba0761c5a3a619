import type { TokenBuckets } from '../ports/rate-limit.js';

/**
 * Token buckets per key (user, or client address for logins), in this process: `ratePerSecond`
 * tokens refill continuously up to `burst`; a rate of 0 never limits. Small enough to keep here rather
 * than pull in a library whose model (fixed windows) is not the one we promise.
 */
export class InMemoryTokenBuckets implements TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `cost` tokens for `key` (the port says how a cost above the burst is taken): 0 when taken, otherwise the whole seconds until they are available. */
  tryTake(key: string, cost = 1): Promise<number> {
    return Promise.resolve(this.take(key, cost));
  }

  private take(key: string, cost: number): number {
    if (this.ratePerSecond <= 0) return 0;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
    const needed = Math.min(cost, this.burst);
    if (bucket.tokens < needed) {
      this.buckets.set(key, bucket);
      return Math.max(1, Math.ceil((needed - bucket.tokens) / this.ratePerSecond));
    }
    bucket.tokens -= cost;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100_000) this.evictFull(now);
    return 0;
  }

  private evictFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
  }
}

import { addressKey } from '../common/client-address.js';
import type { TokenBuckets } from '../ports/rate-limit.js';
import { LoginRateLimitedError } from './errors.js';

/**
 * The per-client-address budget of password checks: one token bucket per address (the rate-limit
 * port, src/ports/rate-limit.ts), taken before a login costs an argon2id hash (19 MiB) or a store
 * write. Addresses are keyed by `addressKey` (an IPv6 client by its /64). A login with no address (an
 * internal caller) shares one bucket rather than escaping the limit. No buckets = no limit.
 */

export class LoginAddressLimit {
  constructor(private readonly buckets: TokenBuckets | undefined) {}

  /** Takes one password check for the address or throws `LoginRateLimitedError`. */
  async take(clientAddress: string | undefined): Promise<void> {
    const retryAfterSeconds = (await this.buckets?.tryTake(addressKey(clientAddress))) ?? 0;
    if (retryAfterSeconds > 0) throw new LoginRateLimitedError(retryAfterSeconds);
  }
}

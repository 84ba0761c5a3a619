import { dbOf, inTransaction, type StoreHandle } from '../store/handle.js';
import { LoginThrottledError } from './errors.js';

/**
 * Exponential back-off of failed logins per username, persisted so a restart does not reset it.
 * After `maxFailures` consecutive failures the username is locked for `baseLockMs`, doubling with
 * each further failure up to `maxLockMs` — never permanently, so an attacker cannot lock the real
 * user out for longer than the cap. A success clears the record.
 *
 * Attempts are counted when they start, not when they fail: otherwise a burst of parallel guesses
 * would all pass the check before the first failure was written. Unknown usernames are throttled
 * exactly like known ones, so the lockout reveals nothing about which usernames exist.
 */

export interface ThrottlePolicy {
  readonly maxFailures: number;
  readonly baseLockMs: number;
  readonly maxLockMs: number;
  /** A record untouched for this long starts again from zero. */
  readonly forgetAfterMs: number;
}

export const DEFAULT_THROTTLE_POLICY: ThrottlePolicy = {
  maxFailures: 5,
  baseLockMs: 1_000,
  maxLockMs: 15 * 60_000,
  forgetAfterMs: 24 * 60 * 60_000,
};

export class LoginThrottle {
  private readonly policy: ThrottlePolicy;
  private readonly now: () => number;

  constructor(
    private readonly store: StoreHandle,
    options: { policy?: Partial<ThrottlePolicy>; now?: () => number } = {},
  ) {
    this.policy = { ...DEFAULT_THROTTLE_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
  }

  /** Call before checking the password. Throws `LoginThrottledError` while the username is locked. */
  async beginAttempt(username: string): Promise<void> {
    const now = this.now();
    await inTransaction(this.store, async (trx) => {
      const row = await trx.selectFrom('login_throttle').selectAll().where('username', '=', username).executeTakeFirst();
      const fresh = !row || Number(row.updated_at) + this.policy.forgetAfterMs <= now;
      const lockedUntil = fresh ? 0 : Number(row.locked_until);
      if (lockedUntil > now) throw new LoginThrottledError(Math.max(1, Math.ceil((lockedUntil - now) / 1000)));
      const failures = fresh ? 1 : Number(row.failures) + 1;
      const values = { failures, locked_until: this.lockUntil(failures, now), updated_at: now };
      await trx
        .insertInto('login_throttle')
        .values({ username, ...values })
        .onConflict((oc) => oc.column('username').doUpdateSet(values))
        .execute();
    });
  }

  /** Call when the attempt failed: restarts the lock period from the moment of failure. */
  async recordFailure(username: string): Promise<void> {
    const now = this.now();
    await inTransaction(this.store, async (trx) => {
      const row = await trx.selectFrom('login_throttle').select('failures').where('username', '=', username).executeTakeFirst();
      if (!row) return;
      await trx
        .updateTable('login_throttle')
        .set({ locked_until: this.lockUntil(Number(row.failures), now), updated_at: now })
        .where('username', '=', username)
        .execute();
    });
  }

  async recordSuccess(username: string): Promise<void> {
    await dbOf(this.store).deleteFrom('login_throttle').where('username', '=', username).execute();
  }

  /** Milliseconds the username stays locked (0 when it is not). */
  async lockedForMs(username: string): Promise<number> {
    const now = this.now();
    const row = await dbOf(this.store).selectFrom('login_throttle').selectAll().where('username', '=', username).executeTakeFirst();
    if (!row || Number(row.updated_at) + this.policy.forgetAfterMs <= now) return 0;
    return Math.max(0, Number(row.locked_until) - now);
  }

  /** Deletes records nobody has touched for `forgetAfterMs`; returns how many. */
  async prune(): Promise<number> {
    const result = await dbOf(this.store)
      .deleteFrom('login_throttle')
      .where('updated_at', '<=', this.now() - this.policy.forgetAfterMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private lockUntil(failures: number, now: number): number {
    const over = failures - this.policy.maxFailures;
    if (over < 0) return 0;
    return now + Math.min(this.policy.baseLockMs * 2 ** Math.min(over, 40), this.policy.maxLockMs);
  }
}

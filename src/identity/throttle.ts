import { createHash } from 'node:crypto';
import { dbOf, inTransaction, type StoreHandle } from '../ports/store.js';
import { LoginThrottledError } from './errors.js';

/**
 * Exponential back-off of failed logins per username, persisted so a restart does not reset it.
 * After `maxFailures` consecutive failures the username is locked for `baseLockMs`, doubling with
 * each further failure up to `maxLockMs` — never permanently, so an attacker cannot lock the real
 * user out for longer than the cap. A success clears the record.
 *
 * Failures are counted, not attempts: twenty concurrent logins with the right password never lock
 * anyone out. A burst of parallel guesses still cannot outrun the count: at most as many attempts
 * per username run at once (in this process) as failures remain before the lock, at least one; the
 * rest wait for those to finish and then see the lock. Unknown usernames are throttled exactly like
 * known ones, so the lockout reveals nothing about which usernames exist.
 *
 * The store holds a SHA-256 of the username, not the username: people type their password into the
 * username field, and this table is written for unknown usernames too.
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

/** One login attempt in progress: it holds one of the username's concurrent slots until settled. */
export interface LoginAttempt {
  /** The password was wrong (or the user unknown or disabled). */
  failed(): Promise<void>;
  /** The password was right: the failure record is cleared. */
  succeeded(): Promise<void>;
  /** Frees the slot without recording anything (the check could not be made). Idempotent. */
  release(): void;
}

export class LoginThrottle {
  private readonly policy: ThrottlePolicy;
  private readonly now: () => number;
  /** Per username key in this process: attempts running, who waits for a slot, who is reading the record, failures committed. */
  private readonly running = new Map<string, KeyState>();

  constructor(
    private readonly store: StoreHandle,
    options: { policy?: Partial<ThrottlePolicy>; now?: () => number } = {},
  ) {
    this.policy = { ...DEFAULT_THROTTLE_POLICY, ...options.policy };
    this.now = options.now ?? Date.now;
  }

  /**
   * Call before checking the password; then call exactly one of the attempt's `failed()` or
   * `succeeded()`, or `release()` when the check could not be made. Throws `LoginThrottledError`
   * while the username is locked.
   */
  async beginAttempt(username: string): Promise<LoginAttempt> {
    const key = throttleKey(username);
    let state = this.running.get(key);
    if (!state) {
      state = { count: 0, waiters: [], readers: 0, recorded: 0 };
      this.running.set(key, state);
    }
    state.readers++;
    try {
      for (;;) {
        // Failures this process commits while the read is out may be missing from it (on a store with
        // I/O latency, PostgreSQL, several can): counted on top, so the slots are never too many.
        const recordedBefore = state.recorded;
        const failures = (await this.currentFailures(key)) + state.recorded - recordedBefore;
        const slots = Math.max(1, this.policy.maxFailures - failures);
        if (state.count < slots) return this.start(key, state);
        const waiting = state;
        await new Promise<void>((resolve) => waiting.waiters.push(resolve));
      }
    } finally {
      state.readers--;
      this.forgetIfIdle(key, state);
    }
  }

  private forgetIfIdle(key: string, state: KeyState): void {
    if (state.count === 0 && state.waiters.length === 0 && state.readers === 0 && this.running.get(key) === state) this.running.delete(key);
  }

  /** Milliseconds the username stays locked (0 when it is not). */
  async lockedForMs(username: string): Promise<number> {
    const row = await this.row(throttleKey(username));
    return row ? Math.max(0, row.lockedUntil - this.now()) : 0;
  }

  /** Deletes records nobody has touched for `forgetAfterMs`; returns how many. */
  async prune(): Promise<number> {
    const result = await dbOf(this.store)
      .deleteFrom('login_throttle')
      .where('updated_at', '<=', this.now() - this.policy.forgetAfterMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Failures so far; throws `LoginThrottledError` while locked. */
  private async currentFailures(key: string): Promise<number> {
    const row = await this.row(key);
    if (!row) return 0;
    const now = this.now();
    if (row.lockedUntil > now) throw new LoginThrottledError(Math.max(1, Math.ceil((row.lockedUntil - now) / 1000)));
    return row.failures;
  }

  /** The live record of a key (one untouched for `forgetAfterMs` counts as none). */
  private async row(key: string): Promise<{ failures: number; lockedUntil: number } | undefined> {
    const row = await dbOf(this.store).selectFrom('login_throttle').selectAll().where('username', '=', key).executeTakeFirst();
    if (!row || Number(row.updated_at) + this.policy.forgetAfterMs <= this.now()) return undefined;
    return { failures: Number(row.failures), lockedUntil: Number(row.locked_until) };
  }

  private start(key: string, state: KeyState): LoginAttempt {
    state.count++;
    let settled = false;
    const release = (): void => {
      if (settled) return;
      settled = true;
      state.count--;
      for (const wake of state.waiters.splice(0)) wake();
      this.forgetIfIdle(key, state);
    };
    return {
      failed: async () => {
        try {
          if (!settled) {
            await this.recordFailure(key);
            state.recorded++;
          }
        } finally {
          release();
        }
      },
      succeeded: async () => {
        try {
          if (!settled) await dbOf(this.store).deleteFrom('login_throttle').where('username', '=', key).execute();
        } finally {
          release();
        }
      },
      release,
    };
  }

  /** Counts one failure and (re)starts the lock period from the moment of failure. */
  private async recordFailure(key: string): Promise<void> {
    const now = this.now();
    await inTransaction(this.store, async (trx) => {
      const row = await trx.selectFrom('login_throttle').selectAll().where('username', '=', key).executeTakeFirst();
      const fresh = !row || Number(row.updated_at) + this.policy.forgetAfterMs <= now;
      const failures = fresh ? 1 : Number(row.failures) + 1;
      const values = { failures, locked_until: this.lockUntil(failures, now), updated_at: now };
      await trx
        .insertInto('login_throttle')
        .values({ username: key, ...values })
        .onConflict((oc) => oc.column('username').doUpdateSet(values))
        .execute();
    });
  }

  private lockUntil(failures: number, now: number): number {
    const over = failures - this.policy.maxFailures;
    if (over < 0) return 0;
    return now + Math.min(this.policy.baseLockMs * 2 ** Math.min(over, 40), this.policy.maxLockMs);
  }
}

interface KeyState {
  count: number;
  readonly waiters: (() => void)[];
  readers: number;
  recorded: number;
}

/** What the table's `username` column holds: a SHA-256 of the username (see above). */
function throttleKey(username: string): string {
  return createHash('sha256').update(username, 'utf8').digest('base64url');
}

import type { StoreHandle } from '../ports/store.js';
import { getOrganisation, type Organisation } from '../partners/organisations.js';
import type { TokenBuckets } from '../ports/rate-limit.js';
import { ALWAYS_TRUSTED, type CacheTrust } from '../ports/cache.js';
import { LoginAddressLimit } from './address-limit.js';
import { LoginThrottledError, NotAuthorizedError, TokenError } from './errors.js';
import { identityEvents } from '../ports/invalidation.js';
import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import { issueRefreshToken, pruneRefreshTokens, redeemRefreshToken, REFRESH_TOKEN_TTL_MS } from './refresh-tokens.js';
import { LoginThrottle, type LoginAttempt, type ThrottlePolicy } from './throttle.js';
import { TOKEN_CLOCK_TOLERANCE_SECONDS, type TokenService } from './tokens.js';
import { findForLogin, getUser, isValidUsername, PASSWORD_MAX_LENGTH, type User } from './users.js';
import type { LoginIdentity, LoginOrigin } from '../ports/identity-provider.js';

/**
 * The embedded user pool: password login with back-off, token refresh, and bearer-token checks.
 *
 * Login gives the same `NotAuthorizedError` for an unknown user, a wrong password and a disabled
 * user, after the same argon2 work in each case, so neither the answer nor its timing tells which.
 * (The error names the user for the audit record; its message and wire form never do.)
 */

export interface UserPoolOptions {
  readonly store: StoreHandle;
  readonly tokens: TokenService;
  readonly now?: () => number;
  readonly throttle?: Partial<ThrottlePolicy>;
  /** Password checks per client address (one token bucket each); absent = unlimited. */
  readonly addressBuckets?: TokenBuckets;
  readonly refreshTokenTtlMs?: number;
  /**
   * How long a user's enabled/password state is trusted without a store read (0 = read every time).
   * Changes made in this process invalidate it at once; changes made by another process (the CLI)
   * within this bound.
   */
  readonly userCacheTtlMs?: number;
  /** While it says invalidations may be missed, the user cache is bypassed (src/ports/cache.ts). */
  readonly cacheTrust?: CacheTrust;
}

export interface Session {
  readonly user: User;
  readonly org: Organisation;
  readonly idToken: string;
  readonly accessToken: string;
  readonly expiresIn: number;
  /** From this instant (ms) on the tokens are refused. */
  readonly validUntilMs: number;
}

export interface LoginSession extends Session {
  readonly refreshToken: string;
}

export interface BearerIdentity {
  readonly userId: string;
  readonly orgId: string;
  readonly username: string;
  /** From this instant (ms) on the token is refused: `exp` plus the clock tolerance. */
  readonly validUntilMs: number;
}

const DEFAULT_USER_CACHE_TTL_MS = 30_000;
const USER_CACHE_MAX_ENTRIES = 10_000;

export class UserPool {
  private readonly store: StoreHandle;
  private readonly tokens: TokenService;
  private readonly now: () => number;
  private readonly throttle: LoginThrottle;
  private readonly addressLimit: LoginAddressLimit;
  private readonly refreshTokenTtlMs: number;
  private readonly userCacheTtlMs: number;
  private readonly userCache = new Map<string, { user: User | undefined; until: number; epoch: number }>();
  private readonly cacheTrust: CacheTrust;
  private readonly unsubscribe: () => void;
  /** Bumped by every user change, so a store read that raced with a change is not cached. */
  private generation = 0;

  constructor(options: UserPoolOptions) {
    this.store = options.store;
    this.tokens = options.tokens;
    this.now = options.now ?? Date.now;
    this.throttle = new LoginThrottle(options.store, { policy: options.throttle ?? {}, now: this.now });
    this.addressLimit = new LoginAddressLimit(options.addressBuckets);
    this.refreshTokenTtlMs = options.refreshTokenTtlMs ?? REFRESH_TOKEN_TTL_MS;
    this.userCacheTtlMs = options.userCacheTtlMs ?? DEFAULT_USER_CACHE_TTL_MS;
    this.cacheTrust = options.cacheTrust ?? ALWAYS_TRUSTED;
    this.unsubscribe = identityEvents.on('user-changed', ({ userId }) => {
      this.generation++;
      this.userCache.delete(userId);
    });
  }

  /**
   * Password login with a refresh token (InitiateAuth). Throws `LoginRateLimitedError` when the
   * client address has used its budget, `LoginThrottledError` while the username is locked out, and
   * `NotAuthorizedError` otherwise; the last two name the user when it exists (for the audit record).
   */
  async login(username: string, password: string, from: LoginOrigin = {}): Promise<LoginSession> {
    const user = await this.checkPassword(username, password, from);
    const session = await this.session(user, this.now());
    const refreshToken = await issueRefreshToken(this.store, session.user.id, { now: this.now(), ttlMs: this.refreshTokenTtlMs });
    return { ...session, refreshToken };
  }

  /**
   * Password login for the Managed path, which logs in per request (cached) and never shows the
   * caller a token: the identity comes straight from the password check, with no token minted and
   * then verified. Same refusals as `login`.
   */
  async managedLogin(username: string, password: string, from: LoginOrigin = {}): Promise<LoginIdentity> {
    const user = await this.checkPassword(username, password, from);
    if (!(await getOrganisation(this.store, user.orgId))) throw new TokenError('TOKEN_INVALID');
    return {
      userId: user.id,
      orgId: user.orgId,
      username: user.username,
      tokenGeneration: user.tokenGeneration,
      validUntilMs: this.tokens.validUntilMs(this.now()),
    };
  }

  /**
   * The checks a bearer token gets, for a cached Managed login: the user still exists, is enabled,
   * is in the same organisation, and has had no password change, disable or enable since the login.
   */
  async checkLogin(login: LoginIdentity): Promise<void> {
    await this.currentUser(login.userId, login.orgId, login.tokenGeneration);
  }

  /** New ID and access tokens for a live refresh token (the refresh token itself is kept). */
  async refresh(refreshToken: string): Promise<Session> {
    const grant = await redeemRefreshToken(this.store, refreshToken, this.now());
    const user = await getUser(this.store, grant.userId);
    if (!user || user.disabled) throw new TokenError('TOKEN_INVALID', 'Invalid Refresh Token');
    return this.session(user, grant.authTime);
  }

  /**
   * The caller behind an ID or access token. Rejects tokens of users that were deleted or disabled,
   * and tokens issued before the user's last password change, disable or enable.
   */
  async authenticateBearer(token: string): Promise<BearerIdentity> {
    const claims = await this.tokens.verifyBearer(token);
    const user = await this.currentUser(claims.userId, claims.orgId, claims.tokenGeneration);
    return { userId: user.id, orgId: user.orgId, username: user.username, validUntilMs: (claims.expiresAt + TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000 };
  }

  /** The user a token (or a cached login) names, if it may still act: else `TOKEN_INVALID`. */
  private async currentUser(userId: string, orgId: string, tokenGeneration: number): Promise<User> {
    let user = await this.cachedUser(userId);
    // Generations only grow, so a token newer than the cached user means the cache is stale (the
    // password was changed or the user enabled by another process): read the store, never refuse.
    if (user && tokenGeneration > user.tokenGeneration) user = await this.readUser(userId);
    if (!user || user.disabled || user.orgId !== orgId) throw new TokenError('TOKEN_INVALID');
    // Exact: any password change, disable or enable since the token was issued bumped the generation.
    if (tokenGeneration !== user.tokenGeneration) throw new TokenError('TOKEN_INVALID');
    return user;
  }

  private async checkPassword(username: string, password: string, from: LoginOrigin): Promise<User> {
    // Before anything costs argon2id or a store write.
    await this.addressLimit.take(from.clientAddress);
    // Malformed input cannot match any account; refusing it early reveals nothing.
    if (!isValidUsername(username) || typeof password !== 'string' || password.length > PASSWORD_MAX_LENGTH * 2) {
      throw new NotAuthorizedError();
    }
    const found = await findForLogin(this.store, username);
    const subject = found && { userId: found.user.id, orgId: found.user.orgId };
    let attempt: LoginAttempt;
    try {
      attempt = await this.throttle.beginAttempt(username);
    } catch (error) {
      if (error instanceof LoginThrottledError && subject) throw new LoginThrottledError(error.retryAfterSeconds, subject);
      throw error;
    }
    try {
      const passwordOk = found ? await verifyPassword(found.passwordHash, password) : await verifyAgainstDummy(password);
      if (!found || !passwordOk || found.user.disabled) {
        await attempt.failed();
        throw new NotAuthorizedError(subject);
      }
      await attempt.succeeded();
    } finally {
      attempt.release();
    }
    return found.user;
  }

  /** Deletes stale failed-login records and dead refresh tokens (run on a schedule). */
  async prune(): Promise<{ loginRecords: number; refreshTokens: number }> {
    const loginRecords = await this.throttle.prune();
    const refreshTokens = await pruneRefreshTokens(this.store, this.now());
    return { loginRecords, refreshTokens };
  }

  /** Stops listening for identity events (call when discarding the pool). */
  close(): void {
    this.unsubscribe();
    this.userCache.clear();
  }

  private async session(user: User, authTime: number): Promise<Session> {
    const org = await getOrganisation(this.store, user.orgId);
    if (!org) throw new TokenError('TOKEN_INVALID');
    const tokens = await this.tokens.issue(user, org, { authTime });
    return { user, org, ...tokens };
  }

  private async cachedUser(userId: string): Promise<User | undefined> {
    const now = this.now();
    const hit = this.userCache.get(userId);
    if (hit && hit.until > now && hit.epoch === this.cacheTrust.epoch && this.cacheTrust.trusted()) return hit.user;
    return this.readUser(userId);
  }

  /** Reads the user from the store and caches it (unless caching is off or a change raced the read). */
  private async readUser(userId: string): Promise<User | undefined> {
    const now = this.now();
    const generation = this.generation;
    const user = await getUser(this.store, userId);
    if (generation !== this.generation || this.userCacheTtlMs <= 0 || !this.cacheTrust.trusted()) return user;
    this.userCache.delete(userId);
    if (this.userCache.size >= USER_CACHE_MAX_ENTRIES) {
      const oldest = this.userCache.keys().next().value;
      if (oldest !== undefined) this.userCache.delete(oldest);
    }
    this.userCache.set(userId, { user, until: now + this.userCacheTtlMs, epoch: this.cacheTrust.epoch });
    return user;
  }
}

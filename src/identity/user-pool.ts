import type { StoreHandle } from '../store/handle.js';
import { getOrganisation, type Organisation } from '../partners/organisations.js';
import { NotAuthorizedError, TokenError } from './errors.js';
import { identityEvents } from './events.js';
import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import { issueRefreshToken, redeemRefreshToken, REFRESH_TOKEN_TTL_MS } from './refresh-tokens.js';
import { LoginThrottle, type ThrottlePolicy } from './throttle.js';
import type { TokenService } from './tokens.js';
import { findForLogin, getUser, isValidUsername, PASSWORD_MAX_LENGTH, type User } from './users.js';

/**
 * The embedded user pool: password login with back-off, token refresh, and bearer-token checks.
 *
 * Login gives the same `NotAuthorizedError` for an unknown user, a wrong password and a disabled
 * user, after the same argon2 work in each case, so neither the answer nor its timing tells which.
 */

export interface UserPoolOptions {
  readonly store: StoreHandle;
  readonly tokens: TokenService;
  readonly now?: () => number;
  readonly throttle?: Partial<ThrottlePolicy>;
  readonly refreshTokenTtlMs?: number;
  /**
   * How long a user's enabled/password state is trusted without a store read. Changes made in this
   * process invalidate it at once; changes made by another process (the CLI) within this bound.
   */
  readonly userCacheTtlMs?: number;
}

export interface Session {
  readonly user: User;
  readonly org: Organisation;
  readonly idToken: string;
  readonly accessToken: string;
  readonly expiresIn: number;
}

export interface LoginSession extends Session {
  readonly refreshToken: string;
}

export interface BearerIdentity {
  readonly userId: string;
  readonly orgId: string;
  readonly username: string;
}

const DEFAULT_USER_CACHE_TTL_MS = 30_000;
const USER_CACHE_MAX_ENTRIES = 10_000;

export class UserPool {
  private readonly store: StoreHandle;
  private readonly tokens: TokenService;
  private readonly now: () => number;
  private readonly throttle: LoginThrottle;
  private readonly refreshTokenTtlMs: number;
  private readonly userCacheTtlMs: number;
  private readonly userCache = new Map<string, { user: User | undefined; until: number }>();
  private readonly unsubscribe: () => void;
  /** Bumped by every user change, so a store read that raced with a change is not cached. */
  private generation = 0;

  constructor(options: UserPoolOptions) {
    this.store = options.store;
    this.tokens = options.tokens;
    this.now = options.now ?? Date.now;
    this.throttle = new LoginThrottle(options.store, { policy: options.throttle ?? {}, now: this.now });
    this.refreshTokenTtlMs = options.refreshTokenTtlMs ?? REFRESH_TOKEN_TTL_MS;
    this.userCacheTtlMs = options.userCacheTtlMs ?? DEFAULT_USER_CACHE_TTL_MS;
    this.unsubscribe = identityEvents.on('user-changed', ({ userId }) => {
      this.generation++;
      this.userCache.delete(userId);
    });
  }

  /** Throws `NotAuthorizedError`, or `LoginThrottledError` while the username is locked out. */
  async login(username: string, password: string): Promise<LoginSession> {
    // Malformed input cannot match any account; refusing it early reveals nothing.
    if (!isValidUsername(username) || typeof password !== 'string' || password.length > PASSWORD_MAX_LENGTH * 2) {
      throw new NotAuthorizedError();
    }
    await this.throttle.beginAttempt(username);
    const found = await findForLogin(this.store, username);
    const passwordOk = found ? await verifyPassword(found.passwordHash, password) : await verifyAgainstDummy(password);
    if (!found || !passwordOk || found.user.disabled) {
      await this.throttle.recordFailure(username);
      throw new NotAuthorizedError();
    }
    await this.throttle.recordSuccess(username);

    const { user } = found;
    const now = this.now();
    const session = await this.session(user, now);
    const refreshToken = await issueRefreshToken(this.store, user.id, { now, ttlMs: this.refreshTokenTtlMs });
    return { ...session, refreshToken };
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
   * and tokens issued before the user's last password change.
   */
  async authenticateBearer(token: string): Promise<BearerIdentity> {
    const claims = await this.tokens.verifyBearer(token);
    const user = await this.cachedUser(claims.userId);
    if (!user || user.disabled || user.orgId !== claims.orgId) throw new TokenError('TOKEN_INVALID');
    if (claims.issuedAt < Math.floor(user.passwordChangedAt / 1000)) throw new TokenError('TOKEN_INVALID');
    return { userId: user.id, orgId: user.orgId, username: user.username };
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
    if (hit && hit.until > now) return hit.user;
    const generation = this.generation;
    const user = await getUser(this.store, userId);
    if (generation !== this.generation) return user;
    if (this.userCache.size >= USER_CACHE_MAX_ENTRIES) {
      const oldest = this.userCache.keys().next().value;
      if (oldest !== undefined) this.userCache.delete(oldest);
    }
    this.userCache.delete(userId);
    this.userCache.set(userId, { user, until: now + this.userCacheTtlMs });
    return user;
  }
}

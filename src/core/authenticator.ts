import { createHmac, randomBytes } from 'node:crypto';
import type { Caller } from './operations.js';
import { ServiceError } from '../common/service-error.js';
import type { Cache } from '../ports/cache.js';
import type { BearerIdentity, IdentityProvider, LoginIdentity, LoginOrigin, PartnerCredentials } from '../ports/identity-provider.js';

/**
 * Authentication for both API paths, with the hot-path caches the managed flow needs.
 *
 * A successful managed login is cached for `loginCacheTtlMs` under HMAC(process secret, username ‖
 * password): the cache never holds the password, an attacker who reads the memory learns nothing
 * reusable elsewhere, and a wrong password simply misses. Partner credential checks are cached the
 * same way. Entries are dropped the moment a user is disabled or changes password, or credentials
 * are revoked: here at once, elsewhere as the change log or Redis carries the event (within a second).
 * While invalidations may be missed the caches are bypassed (src/ports/cache.ts `CacheTrust`).
 */

/** What the authenticator needs from the identity pool and the partner registry. */
export type AuthBackends = IdentityProvider;

export class Authenticator {
  private readonly secret = randomBytes(32);
  private readonly logins: Cache<LoginIdentity>;
  private readonly bearers: Cache<BearerIdentity>;
  private readonly partners: Cache<{ credentialId: string; orgId: string }>;
  /** Logins in progress: concurrent requests of one user share a single password check. */
  private readonly loginsInFlight = new Map<string, Promise<LoginIdentity>>();

  /** `newCache(ttlMs, name)` makes each of the three caches (src/ports/cache.ts; the composition root picks the adapter). */
  constructor(
    private readonly backends: AuthBackends,
    newCache: <V>(ttlMs: number, name: 'login' | 'bearer' | 'partner') => Cache<V>,
    cacheTtlMs: number,
  ) {
    this.logins = newCache(cacheTtlMs, 'login');
    // A verified token is cached for a short while only, and never past its own expiry.
    this.bearers = newCache(Math.min(cacheTtlMs, 30_000), 'bearer');
    this.partners = newCache(cacheTtlMs, 'partner');
  }

  /**
   * Managed path step 1: log in to the identity pool (cached). Only a cache miss checks the password,
   * and only a miss counts against the client address's login budget.
   */
  async login(username: string, password: string, from: LoginOrigin = {}): Promise<LoginIdentity> {
    const key = this.key('login', username, password);
    const hit = this.logins.get(key);
    if (hit) return hit;
    // Without this, a burst of requests arriving as the cached login expires would each count as a
    // login attempt and trip the failed-login backoff for a user with the right password.
    const pending = this.loginsInFlight.get(key);
    if (pending) return pending;
    const attempt = this.backends.login(username, password, from).then((login) => {
      this.logins.set(key, login, login.validUntilMs);
      return login;
    });
    this.loginsInFlight.set(key, attempt);
    try {
      return await attempt;
    } finally {
      this.loginsInFlight.delete(key);
    }
  }

  /** Direct path: bearer token + partner credentials → the caller. */
  async caller(bearerToken: string, credentials: PartnerCredentials): Promise<Caller> {
    const [identity, partner] = await Promise.all([this.bearer(bearerToken), this.partner(credentials)]);
    return callerOf(identity, partner);
  }

  /**
   * Managed path step 2: the login of step 1 + partner credentials → the caller. The login is used
   * as it is (no token round trip), after the same user checks a bearer token gets.
   */
  async managedCaller(login: LoginIdentity, credentials: PartnerCredentials): Promise<Caller> {
    const [, partner] = await Promise.all([this.backends.checkLogin(login), this.partner(credentials)]);
    return callerOf(login, partner);
  }

  forgetUser(userId: string): void {
    this.logins.deleteWhere((t) => t.userId === userId);
    this.bearers.deleteWhere((b) => b.userId === userId);
  }

  forgetCredentials(credentialId: string): void {
    this.partners.deleteWhere((p) => p.credentialId === credentialId);
  }

  private async bearer(token: string): Promise<BearerIdentity> {
    const key = this.key('bearer', token);
    const hit = this.bearers.get(key);
    if (hit) return hit;
    const identity = await this.backends.verifyBearer(token);
    this.bearers.set(key, identity, identity.validUntilMs);
    return identity;
  }

  private async partner(credentials: PartnerCredentials): Promise<{ credentialId: string; orgId: string }> {
    const key = this.key('partner', credentials.apiKey, credentials.accessKey, credentials.secretKey);
    const hit = this.partners.get(key);
    if (hit) return hit;
    const partner = await this.backends.verifyPartner(credentials);
    this.partners.set(key, partner);
    return partner;
  }

  private key(...parts: string[]): string {
    const mac = createHmac('sha256', this.secret);
    for (const p of parts) mac.update(`${Buffer.byteLength(p)}:`).update(p);
    return mac.digest('base64url');
  }
}

function callerOf(identity: { userId: string; orgId: string; username: string }, partner: { credentialId: string; orgId: string }): Caller {
  if (identity.orgId !== partner.orgId) {
    throw new ServiceError('PARTNER_CREDENTIALS_MISMATCH');
  }
  return { userId: identity.userId, username: identity.username, orgId: identity.orgId, credentialId: partner.credentialId };
}

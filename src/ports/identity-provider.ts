/**
 * Port: the identity provider, as the Managed and Direct authentication paths
 * (src/core/authenticator.ts) need it. Today's adapter is the embedded user pool
 * (src/identity/user-pool.ts over the store port) with the partner registry
 * (src/partners/credentials.ts), assembled in src/services.ts; an external pool (issue 15) implements
 * the same four calls.
 */

export interface PartnerCredentials {
  readonly apiKey: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

/** A Managed login: who logged in, straight from the password check (no token is minted for it). */
export interface LoginIdentity {
  readonly userId: string;
  readonly orgId: string;
  readonly username: string;
  /** The user's token generation at the login: a password change, disable or enable since then voids it. */
  readonly tokenGeneration: number;
  /** From this instant (ms) on a token issued at the login would be refused, so the cached login must not outlive it. */
  readonly validUntilMs: number;
}

export interface BearerIdentity {
  readonly userId: string;
  readonly orgId: string;
  readonly username: string;
  /** From this instant (ms) on the token is refused (its `exp` plus the clock tolerance). */
  readonly validUntilMs: number;
}

/** Where a login comes from; the per-address login limit counts `clientAddress`. */
export interface LoginOrigin {
  readonly clientAddress?: string | undefined;
}

export interface IdentityProvider {
  /** Password login; throws (among others) a 429-mapped error when the client address has used its login budget. */
  login(username: string, password: string, from: LoginOrigin): Promise<LoginIdentity>;
  /** Throws unless the user of a (cached) login may still act: exists, enabled, same organisation and token generation. */
  checkLogin(login: LoginIdentity): Promise<void>;
  /** The caller a bearer token names, until `validUntilMs`. */
  verifyBearer(token: string): Promise<BearerIdentity>;
  /** The partner credential set and the organisation it belongs to. */
  verifyPartner(credentials: PartnerCredentials): Promise<{ readonly credentialId: string; readonly orgId: string }>;
}

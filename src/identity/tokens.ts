import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload, type JWSHeaderParameters } from 'jose';
import type { StoreHandle } from '../ports/store.js';
import { TokenError } from './errors.js';
import {
  JWT_ALG,
  loadJwtKeys,
  loadOrCreateJwtKeys,
  loadVerificationKeys,
  rotateJwtKey,
  type JwtKeys,
  type KeyWrapper,
  type PublicJwk,
  type VerificationKey,
} from './jwt-keys.js';

/**
 * ID and access tokens of the identity pool: RS256 JWTs shaped like a hosted identity pool's
 * (`token_use`, `cognito:username`, `aud` on ID tokens and `client_id` on access tokens), plus our
 * `org_id` / `custom:org_id`. Verification accepts RS256 only, with our issuer, from a key in our
 * table — which rules out `alg: none`, HS256-with-the-public-key and foreign keys.
 */

export interface TokenServiceOptions extends KeyWrapper {
  readonly store: StoreHandle;
  readonly issuer: string;
  readonly clientId: string;
  readonly idTokenTtlSeconds?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
}

export type TokenUse = 'id' | 'access';

export interface TokenSubject {
  readonly id: string;
  readonly username: string;
  /** The user's current token generation, carried in the token as `pqseal:token_gen`. */
  readonly tokenGeneration: number;
}

export interface IssuedTokens {
  readonly idToken: string;
  readonly accessToken: string;
  /** Seconds until both tokens expire. */
  readonly expiresIn: number;
  /** From this instant (ms) on both are refused: `exp` plus the clock tolerance. */
  readonly validUntilMs: number;
}

export interface VerifiedToken {
  readonly tokenUse: TokenUse;
  readonly userId: string;
  readonly orgId: string;
  readonly username: string;
  /** Seconds since the epoch, as in the claims. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly authTime: number;
  readonly tokenGeneration: number;
  readonly jti: string;
  readonly kid: string;
  readonly claims: Readonly<JWTPayload>;
}

export interface Jwks {
  readonly keys: readonly PublicJwk[];
}

export interface OpenIdConfiguration {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly response_types_supported: readonly string[];
  readonly subject_types_supported: readonly string[];
  readonly id_token_signing_alg_values_supported: readonly string[];
  readonly token_endpoint_auth_methods_supported: readonly string[];
  readonly scopes_supported: readonly string[];
  readonly claims_supported: readonly string[];
}

export const DEFAULT_ID_TOKEN_TTL_SECONDS = 3600;
const ACCESS_TOKEN_SCOPE = 'aws.cognito.signin.user.admin';
const MAX_TOKEN_LENGTH = 8192;
/** Accepted skew between our clock and a token's `iat` / `exp`: a token is refused from `exp` + this on. */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 5;
const CLOCK_TOLERANCE_SECONDS = TOKEN_CLOCK_TOLERANCE_SECONDS;
/** Private claim: the user's token generation when the token was issued (src/identity/users.ts). */
export const TOKEN_GENERATION_CLAIM = 'pqseal:token_gen';
/** An unknown `kid` reloads keys from the store (another process may have rotated), at most this often. */
const KEY_RELOAD_INTERVAL_MS = 60_000;

export class TokenService {
  readonly issuer: string;
  readonly clientId: string;
  readonly ttlSeconds: number;
  private readonly now: () => number;
  private lastReload = 0;
  private reloading: Promise<void> | undefined;

  private constructor(
    private readonly options: TokenServiceOptions,
    private keys: JwtKeys,
  ) {
    this.issuer = options.issuer;
    this.clientId = options.clientId;
    this.ttlSeconds = options.idTokenTtlSeconds ?? DEFAULT_ID_TOKEN_TTL_SECONDS;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.ttlSeconds) || this.ttlSeconds <= 0) throw new RangeError('idTokenTtlSeconds must be a positive integer');
  }

  /** Loads the active signing key from the store, creating it on first start. */
  static async create(options: TokenServiceOptions): Promise<TokenService> {
    const keys = await loadOrCreateJwtKeys(options.store, options, (options.now ?? Date.now)());
    return new TokenService(options, keys);
  }

  get activeKid(): string {
    return this.keys.signing.kid;
  }

  /**
   * From this instant (ms) on, tokens issued at `issuedAtMs` are refused: `exp` plus the clock
   * tolerance. A Managed login mints no token but must not be trusted longer than one would be.
   */
  validUntilMs(issuedAtMs: number = this.now()): number {
    return (Math.floor(issuedAtMs / 1000) + this.ttlSeconds + CLOCK_TOLERANCE_SECONDS) * 1000;
  }

  /** `authTime` (ms) is when the password was checked; it defaults to now. */
  async issue(user: TokenSubject, org: { readonly id: string }, options: { authTime?: number } = {}): Promise<IssuedTokens> {
    const issuedAtMs = this.now();
    const iat = Math.floor(issuedAtMs / 1000);
    const common = {
      sub: user.id,
      iss: this.issuer,
      'cognito:username': user.username,
      username: user.username,
      'custom:org_id': org.id,
      org_id: org.id,
      auth_time: Math.floor((options.authTime ?? this.now()) / 1000),
      [TOKEN_GENERATION_CLAIM]: user.tokenGeneration,
      iat,
      exp: iat + this.ttlSeconds,
    };
    const [idToken, accessToken] = await Promise.all([
      this.sign({ ...common, aud: this.clientId, token_use: 'id', jti: randomUUID() }),
      this.sign({ ...common, client_id: this.clientId, token_use: 'access', scope: ACCESS_TOKEN_SCOPE, jti: randomUUID() }),
    ]);
    return { idToken, accessToken, expiresIn: this.ttlSeconds, validUntilMs: this.validUntilMs(issuedAtMs) };
  }

  verifyIdToken(token: string): Promise<VerifiedToken> {
    return this.verify(token, 'id');
  }

  verifyAccessToken(token: string): Promise<VerifiedToken> {
    return this.verify(token, 'access');
  }

  /** An ID or an access token, each checked against the client id in its own claim. */
  verifyBearer(token: string): Promise<VerifiedToken> {
    return this.verify(token, undefined);
  }

  jwks(): Jwks {
    return { keys: [...this.keys.verification.values()].map((k) => k.jwk) };
  }

  /**
   * The discovery document. Every URL in it derives from the configured issuer, never from the
   * request's Host header (which the client chooses).
   */
  openidConfiguration(): OpenIdConfiguration {
    const base = this.issuer.replace(/\/+$/, '');
    return {
      issuer: this.issuer,
      jwks_uri: `${base}/.well-known/jwks.json`,
      // Tokens come only from InitiateAuth; there is no browser authorization flow.
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [JWT_ALG],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['openid'],
      claims_supported: [
        'iss',
        'sub',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'jti',
        'token_use',
        'cognito:username',
        'username',
        'custom:org_id',
        'org_id',
        TOKEN_GENERATION_CLAIM,
      ],
    };
  }

  /** Signs new tokens with a new key from now on; tokens signed with older keys still verify. */
  async rotateSigningKey(): Promise<string> {
    await rotateJwtKey(this.options.store, this.options, this.now());
    this.keys = await loadJwtKeys(this.options.store, this.options);
    this.lastReload = this.now();
    return this.keys.signing.kid;
  }

  private sign(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: JWT_ALG, kid: this.keys.signing.kid }).sign(this.keys.signing.key);
  }

  private async verify(token: string, expected: TokenUse | undefined): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenError('TOKEN_INVALID');
    const now = this.now();
    let payload: JWTPayload;
    let kid: string;
    try {
      const result = await jwtVerify(token, (header: JWSHeaderParameters) => this.keyFor(header), {
        algorithms: [JWT_ALG],
        issuer: this.issuer,
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'iat', 'exp', 'jti', 'token_use'],
      });
      payload = result.payload;
      kid = String(result.protectedHeader.kid);
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenError('TOKEN_EXPIRED');
      throw new TokenError('TOKEN_INVALID');
    }

    const use = payload.token_use;
    if (use !== 'id' && use !== 'access') throw new TokenError('TOKEN_INVALID');
    if (expected !== undefined && use !== expected) throw new TokenError('TOKEN_INVALID', `expected an ${expected} token`);
    const clientOk = use === 'id' ? payload.aud === this.clientId : payload.client_id === this.clientId;
    if (!clientOk) throw new TokenError('TOKEN_INVALID');

    const { sub, iat, exp, jti } = payload;
    const orgId = payload.org_id;
    const username = payload.username;
    const authTime = payload.auth_time;
    const tokenGeneration = payload[TOKEN_GENERATION_CLAIM];
    if (
      typeof tokenGeneration !== 'number' ||
      !Number.isSafeInteger(tokenGeneration) ||
      typeof sub !== 'string' ||
      typeof orgId !== 'string' ||
      typeof username !== 'string' ||
      typeof jti !== 'string' ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      typeof authTime !== 'number' ||
      iat > now / 1000 + CLOCK_TOLERANCE_SECONDS
    ) {
      throw new TokenError('TOKEN_INVALID');
    }
    return { tokenUse: use, userId: sub, orgId, username, issuedAt: iat, expiresAt: exp, authTime, tokenGeneration, jti, kid, claims: payload };
  }

  private async keyFor(header: JWSHeaderParameters): Promise<CryptoKey> {
    if (header.alg !== JWT_ALG || typeof header.kid !== 'string') throw new TokenError('TOKEN_INVALID');
    const found = this.keys.verification.get(header.kid) ?? (await this.reloadFor(header.kid));
    if (!found) throw new TokenError('TOKEN_INVALID');
    return found.key;
  }

  private async reloadFor(kid: string): Promise<VerificationKey | undefined> {
    if (this.now() - this.lastReload >= KEY_RELOAD_INTERVAL_MS) {
      this.lastReload = this.now();
      this.reloading ??= (async () => {
        try {
          const verification = await loadVerificationKeys(this.options.store);
          this.keys = { signing: this.keys.signing, verification };
        } finally {
          this.reloading = undefined;
        }
      })();
    }
    if (this.reloading) await this.reloading.catch(() => undefined);
    return this.keys.verification.get(kid);
  }
}

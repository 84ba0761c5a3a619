import { AuthError, PqsealError, RateLimitError, RequestError, ValidationError } from './errors.js';
import { decodeError, isObject, parseRetryAfter, type RawResponse, type RequestSpec } from './transport.js';

/**
 * Auth providers. A provider decides which API path the client calls and which headers prove who
 * the caller is:
 *
 * - `bearerToken(token)`: Direct API (`/encrypt`, …) with `Authorization: Bearer <IdToken>`.
 * - `login({username, password})`: Direct API; signs in to the pqseal identity pool with the
 *   identity provider's `InitiateAuth` wire call (`USER_PASSWORD_AUTH`), keeps the id, access and
 *   refresh tokens, and renews them with `REFRESH_TOKEN_AUTH` shortly before they expire.
 * - `managed({username, password})`: Managed API (`/v1/encrypt`, …) with the username and password
 *   headers on every request; the server logs in on the caller's behalf.
 *
 * The partner headers (`api_key`, `access_key`, `secret_key`) come from the client's `credentials`
 * in every mode.
 */

export type ApiMode = 'direct' | 'managed';

/** What a provider may use to talk to the server (the client's transport, timeout and retries). */
export interface AuthContext {
  readonly baseUrl: string;
  send(spec: RequestSpec): Promise<RawResponse>;
  readonly signal?: AbortSignal | undefined;
}

export interface AuthProvider {
  readonly mode: ApiMode;
  /** The headers that authenticate one request. */
  headers(context: AuthContext): Promise<Record<string, string>>;
  /**
   * Called when the server refused the token (401 TOKEN_EXPIRED / TOKEN_INVALID). Returns true when
   * the provider renewed what it sends, so that repeating the request once may succeed.
   */
  invalidate?(context: AuthContext): Promise<boolean>;
}

export function bearerToken(token: string | (() => string | Promise<string>)): AuthProvider {
  return {
    mode: 'direct',
    async headers() {
      const value = typeof token === 'function' ? await token() : token;
      if (typeof value !== 'string' || value === '') throw new ValidationError('bearerToken: the token is empty', { code: 'CONFIG_ERROR' });
      return { authorization: `Bearer ${value}` };
    },
  };
}

export interface UserPassword {
  readonly username: string;
  readonly password: string;
}

export function managed(user: UserPassword): AuthProvider {
  requireUser(user, 'managed');
  return {
    mode: 'managed',
    async headers() {
      return { username: user.username, password: user.password };
    },
  };
}

export interface LoginOptions extends UserPassword {
  /** App client id of the identity pool. Default "pqseal". */
  readonly clientId?: string;
  /** Identity pool endpoint; default the client's baseUrl (pqseal answers InitiateAuth at `POST /`). */
  readonly endpoint?: string;
  /** Renew this many seconds before the id token expires. Default 60. */
  readonly refreshMarginSeconds?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

export interface Tokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  /** Epoch ms at which the id and access tokens expire. */
  readonly expiresAt: number;
  /** Epoch ms at which they were obtained (SDK clock). */
  readonly issuedAt: number;
}

const AMZ_JSON = 'application/x-amz-json-1.1';
const INITIATE_AUTH = 'AWSCognitoIdentityProviderService.InitiateAuth';

/** Signs in to the identity pool and keeps the tokens fresh; see `login()`. */
export class LoginAuth implements AuthProvider {
  readonly mode = 'direct' as const;
  private current: Tokens | undefined;
  private pending: Promise<Tokens> | undefined;

  constructor(private readonly options: LoginOptions) {
    requireUser(options, 'login');
  }

  /** The tokens held now (undefined before the first call or after a failed renewal). */
  get tokens(): Tokens | undefined {
    return this.current;
  }

  async headers(context: AuthContext): Promise<Record<string, string>> {
    const tokens = await this.fresh(context);
    return { authorization: `Bearer ${tokens.idToken}` };
  }

  async invalidate(context: AuthContext): Promise<boolean> {
    const stale = this.current;
    this.current = stale ? { ...stale, expiresAt: 0 } : undefined;
    await this.fresh(context);
    return true;
  }

  /** Valid tokens: the held ones, else renewed with the refresh token, else a new sign-in. */
  async fresh(context: AuthContext): Promise<Tokens> {
    const now = (this.options.now ?? Date.now)();
    const current = this.current;
    // Renew `refreshMarginSeconds` before expiry, but never sooner than half-way through the lifetime.
    const margin = current ? Math.min((this.options.refreshMarginSeconds ?? 60) * 1000, (current.expiresAt - current.issuedAt) / 2) : 0;
    if (current && current.expiresAt - margin > now) return current;
    // Concurrent calls share one sign-in.
    this.pending ??= this.renew(context).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Signs in with username and password now, whatever is held. */
  async signIn(context: AuthContext): Promise<Tokens> {
    this.current = await this.initiate(context, 'USER_PASSWORD_AUTH', { USERNAME: this.options.username, PASSWORD: this.options.password });
    return this.current;
  }

  private async renew(context: AuthContext): Promise<Tokens> {
    const refreshToken = this.current?.refreshToken;
    if (refreshToken) {
      try {
        const renewed = await this.initiate(context, 'REFRESH_TOKEN_AUTH', { REFRESH_TOKEN: refreshToken });
        // REFRESH_TOKEN_AUTH answers without a new refresh token: keep the one we have.
        this.current = { ...renewed, refreshToken: renewed.refreshToken ?? refreshToken };
        return this.current;
      } catch (e) {
        // An expired or revoked refresh token: sign in again with the password. Anything else stands.
        if (!(e instanceof AuthError)) throw e;
      }
    }
    this.current = undefined;
    return this.signIn(context);
  }

  private async initiate(context: AuthContext, flow: string, params: Record<string, string>): Promise<Tokens> {
    const endpoint = this.options.endpoint;
    const raw = await context.send({
      method: 'POST',
      path: endpoint === undefined ? '/' : '',
      ...(endpoint === undefined ? {} : { absoluteUrl: endpoint }),
      headers: { 'x-amz-target': INITIATE_AUTH },
      contentType: AMZ_JSON,
      body: { AuthFlow: flow, ClientId: this.options.clientId ?? 'pqseal', AuthParameters: params },
      kind: 'other',
      idempotent: true,
      signal: context.signal,
    });
    return parseAuthResult(raw, (this.options.now ?? Date.now)());
  }
}

/** A provider that signs in to the identity pool (Direct API with bearer tokens). */
export function login(options: LoginOptions): LoginAuth {
  return new LoginAuth(options);
}

function parseAuthResult(raw: RawResponse, now: number): Tokens {
  let json: unknown;
  try {
    json = JSON.parse(raw.text);
  } catch {
    json = undefined;
  }
  if (raw.status !== 200 || !isObject(json) || !isObject(json.AuthenticationResult)) throw loginError(raw, json);
  const r = json.AuthenticationResult;
  if (typeof r.IdToken !== 'string' || typeof r.AccessToken !== 'string' || typeof r.ExpiresIn !== 'number') {
    throw new RequestError('the identity pool answered without tokens', { code: 'INVALID_RESPONSE', status: raw.status, requestId: raw.requestId });
  }
  return {
    idToken: r.IdToken,
    accessToken: r.AccessToken,
    refreshToken: typeof r.RefreshToken === 'string' ? r.RefreshToken : undefined,
    expiresAt: now + r.ExpiresIn * 1000,
    issuedAt: now,
  };
}

/** The identity provider's error shape: HTTP 400, `{__type, message}`. */
function loginError(raw: RawResponse, json: unknown): PqsealError {
  if (raw.status >= 500 || raw.status === 429) return decodeError('other', raw);
  const type = isObject(json) && typeof json.__type === 'string' ? json.__type : undefined;
  const message = isObject(json) && typeof json.message === 'string' ? json.message : `sign-in failed (HTTP ${raw.status})`;
  const retryAfterMs = parseRetryAfter(raw.headers.get('retry-after'));
  const options = { status: raw.status, requestId: raw.requestId, details: type === undefined ? undefined : { type } };
  if (type === 'NotAuthorizedException') {
    if (retryAfterMs !== undefined) return new RateLimitError(message, { ...options, code: 'LOGIN_THROTTLED', retryAfterMs });
    return new AuthError(message, { ...options, code: 'NOT_AUTHORIZED' });
  }
  if (type === 'ResourceNotFoundException') return new ValidationError(message, { ...options, code: 'CLIENT_NOT_FOUND' });
  if (type !== undefined) return new ValidationError(message, { ...options, code: 'INVALID_PARAMETER' });
  return decodeError('other', raw);
}

function requireUser(user: UserPassword, what: string): void {
  if (!user || typeof user.username !== 'string' || user.username === '' || typeof user.password !== 'string' || user.password === '') {
    throw new ValidationError(`${what}: username and password are required`, { code: 'CONFIG_ERROR' });
  }
}

/**
 * Port: the identity provider, as the Managed and Direct authentication paths need it
 * (src/core/authenticator.ts `AuthBackends`, which has the same shape). Today's adapter is the
 * embedded user pool (src/identity/user-pool.ts over the store port); an external pool (an OIDC
 * provider, issue 12) implements the same three calls.
 */
export interface IdentityProvider {
  /** Password login without a refresh token; throws a 429-mapped error when the address's login budget is used up. */
  login(
    username: string,
    password: string,
    from: { readonly clientAddress?: string | undefined },
  ): Promise<{ readonly userId: string; readonly orgId: string; readonly idToken: string; readonly validUntilMs: number }>;
  /** The caller a bearer token names, until `validUntilMs`. */
  verifyBearer(token: string): Promise<{ readonly userId: string; readonly orgId: string; readonly username: string; readonly validUntilMs: number }>;
  /** The partner credential set (api_key, access_key, secret_key) and the organisation it belongs to. */
  verifyPartner(credentials: {
    readonly apiKey: string;
    readonly accessKey: string;
    readonly secretKey: string;
  }): Promise<{ readonly credentialId: string; readonly orgId: string }>;
}

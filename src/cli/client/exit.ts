import { AuthError, DecryptError, EncryptError, RateLimitError, RequestError, ValidationError, type PqsealError } from '@pqseal/sdk';

/**
 * Exit codes of the client commands (the same as src/cli/main.ts): 0 ok; 1 other failure; 2 usage
 * (bad flags, missing credentials, an unsafe profile, a request the server calls invalid); 3
 * authentication or authorisation; 4 verification failure (the signature does not hold, or the
 * envelope cannot be authenticated: tampered, foreign, or unsigned for decrypt-verify); 5 server or
 * network error (5xx, 429, timeout, unreachable).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, verification: 4, server: 5 } as const;

/** The exit code for an error of the SDK. */
export function exitCodeOf(e: PqsealError): number {
  if (e instanceof AuthError) return EXIT.auth;
  if (e instanceof DecryptError) return EXIT.verification;
  if (e instanceof ValidationError) return EXIT.usage;
  if (e instanceof RateLimitError || e instanceof RequestError) return EXIT.server;
  if (e instanceof EncryptError) return EXIT.failure;
  return EXIT.failure;
}

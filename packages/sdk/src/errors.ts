import { errorSpec, isErrorCode } from './catalogue.js';
import { ENVELOPE_ERROR_CODES } from './envelope/errors.js';

/**
 * Typed errors of the SDK. Every error the client throws is a `PqsealError` (alias `CrittoraError`,
 * the name the hosted service's SDK uses) with a stable `code`:
 *
 * | class             | when                                                                 |
 * |-------------------|----------------------------------------------------------------------|
 * | `ValidationError` | the server refused the request as invalid (400, 413, 415, 422), or the SDK refused it before sending |
 * | `AuthError`       | 401 / 403: bad username/password or token, wrong partner credentials, no permission on the envelope |
 * | `RateLimitError`  | 429 (and a throttled login); `retryAfterMs` from `Retry-After`         |
 * | `RequestError`    | network failure, timeout, 5xx, or an answer that is not the API's     |
 * | `EncryptError`    | encrypt / sign-encrypt refused for a reason about the envelope (`ENVELOPE_TOO_LARGE`) |
 * | `DecryptError`    | decrypt / decrypt-verify: the envelope is malformed, tampered, foreign, unsigned, … (`ENVELOPE_*`, `KEY_NOT_FOUND`) |
 *
 * `status` is the HTTP status (absent for network errors and timeouts), `requestId` the server's
 * `x-request-id` (quote it when reporting a problem), `details` the server's `details` object.
 */

export interface PqsealErrorOptions {
  readonly code: string;
  readonly status?: number | undefined;
  readonly requestId?: string | undefined;
  readonly details?: unknown;
  readonly cause?: unknown;
}

export class PqsealError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly details: unknown;
  override readonly cause: unknown;

  constructor(message: string, options: PqsealErrorOptions) {
    super(message);
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status;
    this.requestId = options.requestId;
    this.details = options.details;
    this.cause = options.cause;
  }

  /**
   * Whether the same request may succeed later unchanged: the catalogue's word for the server's codes
   * (429 and 503 answers); for the SDK's own codes, a network failure or timeout.
   */
  get retryable(): boolean {
    if (isErrorCode(this.code)) return errorSpec(this.code).retryable;
    return this.code === 'NETWORK_ERROR' || this.code === 'TIMEOUT';
  }

  /** Plain object for logs: never contains a credential or payload data. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, status: this.status, requestId: this.requestId, details: this.details };
  }
}

/** The hosted service's SDK calls the base class CrittoraError; code written against it keeps working. */
export { PqsealError as CrittoraError };

export class ValidationError extends PqsealError {}
export class AuthError extends PqsealError {}
export class RequestError extends PqsealError {}
export class EncryptError extends PqsealError {}
export class DecryptError extends PqsealError {}

export class RateLimitError extends PqsealError {
  /** How long the server asked the client to wait, in milliseconds (from `Retry-After`), if it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: PqsealErrorOptions & { readonly retryAfterMs?: number | undefined }) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }

  /** `Retry-After` in seconds, as the header carries it. */
  get retryAfter(): number | undefined {
    return this.retryAfterMs === undefined ? undefined : this.retryAfterMs / 1000;
  }
}

/** What kind of call failed, so envelope errors become EncryptError / DecryptError. */
export type CallKind = 'seal' | 'open' | 'other';

const ENVELOPE_CODES: ReadonlySet<string> = new Set(ENVELOPE_ERROR_CODES);

/** Chooses the class for an error answer of the API. */
export function errorFromResponse(
  kind: CallKind,
  status: number,
  code: string,
  message: string,
  extra: { requestId?: string | undefined; details?: unknown; retryAfterMs?: number | undefined; cause?: unknown } = {},
): PqsealError {
  const options = { code, status, requestId: extra.requestId, details: extra.details, cause: extra.cause };
  // A code of the catalogue is classified by the status the catalogue gives it (the answer's status
  // when the server is newer than this SDK and the code unknown).
  const classStatus = isErrorCode(code) ? errorSpec(code).status : status;
  // A partner without permission is an authorisation failure, whatever it asked for.
  if (code === 'ENVELOPE_ACCESS_DENIED') return new AuthError(message, options);
  if (classStatus === 429) return new RateLimitError(message, { ...options, retryAfterMs: extra.retryAfterMs });
  if (classStatus === 401 || classStatus === 403) return new AuthError(message, options);
  if (ENVELOPE_CODES.has(code) && classStatus < 500) {
    if (kind === 'open') return new DecryptError(message, options);
    if (kind === 'seal') return new EncryptError(message, options);
  }
  // 400, 413, 415, 422 — and the rarer 404 (unknown organisation) and 409.
  if (classStatus >= 400 && classStatus < 500) return new ValidationError(message, options);
  return new RequestError(message, options);
}

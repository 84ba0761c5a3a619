/**
 * Every stable error code of pqseal, and what it means on the wire: the one table the HTTP error
 * mapping, the OpenAPI document, the README's error table (checked by test/error-catalogue.test.ts),
 * the SDK's typed errors and the console read. As Fastify's lib/errors.js, one entry per code.
 *
 * Pure data and types, no imports: it runs unchanged in Node, in a browser and in the SDK.
 *
 * - `status`: the HTTP status every answer with this code has.
 * - `message`: the documented message. A throw site may say more (which field, which id); the
 *   message is safe to show either way: never a secret, a key or payload data.
 * - `retryable`: the same request may succeed later unchanged; the answer carries `Retry-After`.
 * - `retryAfterSeconds`: the `Retry-After` sent when the error itself does not say (429s compute theirs).
 * - `cliOnly`: raised by organisation and user administration, which only the CLI does today; a route
 *   that adds them answers this status, not 500. Not in the OpenAPI document.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly message: string;
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly description: string;
  readonly cliOnly?: true;
}

export const ERROR_CATALOGUE = {
  VALIDATION_ERROR: {
    status: 400,
    message: 'body: missing required field "data"',
    retryable: false,
    description:
      'The request does not match the schema (a missing header or field, an unknown field, a wrong type), or a value is refused: an unknown partner, an expiry in the past, requested_actions that do not fit the operation, a body with both the single-item fields and batch_input, a batch_input that is not a non-empty array of objects. In a batch answer, the error of an item that does not match its schema or whose permissions are refused.',
  },
  INVALID_JSON: { status: 400, message: 'the body is not valid JSON', retryable: false, description: 'The body could not be parsed as JSON.' },
  INVALID_CONTENT_LENGTH: {
    status: 400,
    message: 'content-length does not match the body',
    retryable: false,
    description: 'Content-Length disagrees with the body received.',
  },
  INVALID_CURSOR: {
    status: 400,
    message: 'the cursor is not valid; use next_cursor from the previous page',
    retryable: false,
    description: 'The cursor is not one this listing returned.',
  },
  ENVELOPE_MALFORMED: {
    status: 400,
    message: 'envelope is malformed: truncated KEM ciphertext',
    retryable: false,
    description: 'encrypted_data is not an envelope: not URL-safe base64 without padding, truncated, or a field does not parse.',
  },
  ENVELOPE_UNSUPPORTED_VERSION: {
    status: 400,
    message: 'envelope version 2 is not supported',
    retryable: false,
    description: 'The envelope format version is unknown to this server.',
  },
  ENVELOPE_UNSUPPORTED_SUITE: {
    status: 400,
    message: 'algorithm suite 7 is not supported',
    retryable: false,
    description: 'The algorithm suite is unknown to this server.',
  },
  ENVELOPE_AUTH_FAILED: {
    status: 400,
    message: 'envelope authentication failed',
    retryable: false,
    description:
      'The envelope was altered (any flipped bit, truncation or extension), or it was not made by this service for this organisation. No plaintext is released.',
  },
  KEY_NOT_FOUND: {
    status: 400,
    message: 'no decryption key for this envelope',
    retryable: false,
    description: 'The KEM key the envelope names does not exist here.',
  },
  BAD_REQUEST: {
    status: 400,
    message: 'the request is not valid HTTP',
    retryable: false,
    description:
      'The HTTP parser refused the request (a malformed request line or header; answered with Connection: close, the connection ends), or a path parameter is not valid percent-encoding (message: the request path is not valid percent-encoding).',
  },
  ORG_NAME_INVALID: {
    status: 400,
    message: 'the organisation name is empty',
    retryable: false,
    description: 'The organisation display name breaks the naming rules (src/partners/organisation-names.ts).',
    cliOnly: true,
  },
  NOT_AUTHORIZED: {
    status: 401,
    message: 'Username and/or Password Incorrect',
    retryable: false,
    description: 'Wrong username or password, or a disabled user. (The hosted service answers HTTP 500 with this message; pqseal answers 401.)',
  },
  TOKEN_INVALID: {
    status: 401,
    message: 'the token is not valid',
    retryable: false,
    description: 'The bearer token is not an IdToken of this identity pool.',
  },
  TOKEN_EXPIRED: {
    status: 401,
    message: 'the token has expired',
    retryable: false,
    description: 'The bearer token has expired: renew it with REFRESH_TOKEN_AUTH.',
  },
  PARTNER_CREDENTIALS_INVALID: {
    status: 403,
    message: 'the partner credentials are not valid',
    retryable: false,
    description: 'Unknown api_key, wrong access_key or secret_key, or revoked credentials.',
  },
  PARTNER_CREDENTIALS_MISMATCH: {
    status: 403,
    message: "the partner credentials do not belong to the user's organisation",
    retryable: false,
    description: 'The user and the partner credentials belong to different organisations.',
  },
  ENVELOPE_ACCESS_DENIED: {
    status: 403,
    message: 'this organisation may not open this envelope',
    retryable: false,
    description: 'The caller is neither the owner nor a partner with a live (unexpired, unrevoked) read grant.',
  },
  NOT_FOUND: {
    status: 404,
    message: 'no route for GET /v1/unknown',
    retryable: false,
    description: 'No route has this method and path.',
  },
  ENVELOPE_NOT_FOUND: {
    status: 404,
    message: 'this organisation sealed no envelope with this id',
    retryable: false,
    description:
      "revoke/restore name an envelope id the caller's organisation did not seal (its audit log holds every id it sealed). Only the owner can change access to an envelope.",
  },
  ORGANISATION_NOT_FOUND: {
    status: 404,
    message: 'no organisation with id org_unknown',
    retryable: false,
    description: 'No organisation has this id.',
  },
  USER_NOT_FOUND: { status: 404, message: 'no user with id usr_unknown', retryable: false, description: 'No user has this id.', cliOnly: true },
  CREDENTIALS_NOT_FOUND: {
    status: 404,
    message: 'no credentials with id cred_unknown',
    retryable: false,
    description: 'No partner credentials have this id.',
    cliOnly: true,
  },
  REQUEST_TIMEOUT: {
    status: 408,
    message: 'the request body stalled: no byte arrived for 10000 ms',
    retryable: false,
    description:
      'The body sent no byte for PQSEAL_BODY_TIMEOUT_MS, or the whole request (headers and body) took longer than PQSEAL_REQUEST_TIMEOUT_MS, or its headers longer than PQSEAL_HEADERS_TIMEOUT_MS (message: the request did not arrive in time). Answered with Connection: close; the connection ends.',
  },
  USERNAME_EXISTS: {
    status: 409,
    message: 'the username "rockville-insurance-group" is already taken',
    retryable: false,
    description: 'Another user has this username.',
    cliOnly: true,
  },
  ORG_NAME_TAKEN: {
    status: 409,
    message: 'an organisation with the same name (ignoring case, width and spacing) already exists: org_123',
    retryable: false,
    description: 'Another organisation has the same name up to NFKC, case folding and white space.',
    cliOnly: true,
  },
  BODY_TOO_LARGE: {
    status: 413,
    message: 'request body is larger than the configured limit',
    retryable: false,
    description: 'The body exceeds PQSEAL_BODY_LIMIT (4 MiB by default).',
  },
  ENVELOPE_TOO_LARGE: {
    status: 413,
    message: 'plaintext exceeds 16777216 bytes',
    retryable: false,
    description: 'The plaintext or envelope exceeds the envelope format limits.',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    message: 'batch_input has 1001 items; at most 1000 are accepted',
    retryable: false,
    description:
      'A batch_input has more items than PQSEAL_BATCH_MAX_ITEMS (1,000 by default), or its data / encrypted_data fields together more bytes than PQSEAL_BATCH_MAX_BYTES (the body limit by default). Nothing was done; split the batch.',
  },
  PATH_PARAMETER_TOO_LONG: {
    status: 414,
    message: 'a path parameter is longer than the server accepts',
    retryable: false,
    description: 'A path parameter (an organisation id) is longer than 100 characters.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'send the body as application/json',
    retryable: false,
    description: 'The body is not sent as application/json.',
  },
  ENVELOPE_NOT_SIGNED: {
    status: 422,
    message: 'this envelope carries no signature (it was made by encrypt, not sign-encrypt); use decrypt',
    retryable: false,
    description: 'decrypt-verify of an envelope made by encrypt: no plaintext is returned.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'too many requests for this user, slow down',
    retryable: true,
    description: 'The per-user (or, for public keys, per-address) rate limit was exceeded; a batch_input costs one token per item. Wait Retry-After seconds.',
  },
  LOGIN_RATE_LIMITED: {
    status: 429,
    message: 'too many login attempts from this address; try again in 2 s',
    retryable: true,
    description:
      'This client address has used its budget of password checks (PQSEAL_LOGIN_RATE_PER_ADDRESS, PQSEAL_LOGIN_BURST_PER_ADDRESS); refused before the password is checked. Wait Retry-After seconds.',
  },
  LOGIN_THROTTLED: {
    status: 429,
    message: 'too many failed login attempts; try again in 2 s',
    retryable: true,
    description: 'Too many failed logins for this user. Wait Retry-After seconds.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: 'the request headers are larger than the server accepts',
    retryable: false,
    description: "The request headers exceed Node's limit (16 KiB). Answered with Connection: close; the connection ends.",
  },
  INTERNAL_ERROR: {
    status: 500,
    message: 'internal error; the request id identifies it in the server log',
    retryable: false,
    description: 'A fault in the server; the x-request-id finds it in the log.',
  },
  ORG_KEYS_MISSING: {
    status: 500,
    message: 'the organisation has no keys',
    retryable: false,
    description: 'The organisation has no active key pair (its creation did not finish); an operator must generate its keys.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    message: 'the data store is unavailable',
    retryable: true,
    retryAfterSeconds: 5,
    description:
      'The store cannot be read or written right now (closed, disk full, database read-only, I/O error, locked); nothing was changed. The service recovers by itself when the condition clears. Retry after Retry-After seconds.',
  },
  RATE_LIMIT_UNAVAILABLE: {
    status: 503,
    message: 'the rate-limit state is unavailable, retry shortly',
    retryable: true,
    retryAfterSeconds: 2,
    description:
      'The shared rate-limit state (Redis, REDIS_URL) cannot be reached, so the request is refused rather than let through unmetered (fail closed); nothing was done. The service reconnects by itself. Retry after Retry-After seconds.',
  },
  SERVICE_BUSY: {
    status: 503,
    message: 'the service is at capacity, retry shortly',
    retryable: true,
    retryAfterSeconds: 1,
    description:
      "The crypto worker queue is full (checked before anything else), or the bodies in progress would pass PQSEAL_MAX_INFLIGHT_BYTES, or this client address's share PQSEAL_MAX_INFLIGHT_BYTES_PER_CLIENT (charged once the caller is authenticated, as the body's bytes arrive; refused mid-way with Connection: close). Retry after Retry-After seconds.",
  },
  CRYPTO_TIMEOUT: {
    status: 503,
    message: 'the cryptographic operation did not finish in time, retry shortly',
    retryable: true,
    retryAfterSeconds: 1,
    description: 'A crypto task outlived PQSEAL_CRYPTO_TIMEOUT_MS; its worker thread was replaced. Retry after Retry-After seconds.',
  },
  AUDIT_UNAVAILABLE: {
    status: 503,
    message: 'the audit log could not be written, so the result is withheld; retry shortly',
    retryable: true,
    retryAfterSeconds: 1,
    description: 'The audit record could not be made durable, so the result is withheld.',
  },
  REVOCATION_STATE_UNAVAILABLE: {
    status: 503,
    message: 'the revocation state cannot be read right now; partner access is refused until it can',
    retryable: true,
    retryAfterSeconds: 5,
    description: 'A partner open is refused (fail-closed) while the revocation state cannot be read.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** A stable error code an answer of the service can carry. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}

/** The catalogue entry of a code (typed as the common shape, so optional fields can be read). */
export function errorSpec(code: ErrorCode): ErrorSpec {
  return ERROR_CATALOGUE[code];
}

/**
 * Codes of errors that stay inside the process: the server fails to start, the CLI reports them, or
 * a request that meets one is answered `INTERNAL_ERROR`. Listed
 * so that every code the source throws is accounted for (test/error-catalogue.test.ts).
 */
export const INTERNAL_ERROR_CODES = {
  STORE_OPEN_FAILED: 'The store (the SQLite file, or the PostgreSQL database of DATABASE_URL) could not be opened at start-up.',
  STORE_MIGRATION_FAILED: 'A schema migration failed at start-up.',
  MASTER_KEY_INVALID: 'The master key (PQSEAL_MASTER_KEY or master.key) is missing, malformed or too widely readable.',
  JWT_KEY_UNAVAILABLE: "The identity pool's token signing key could not be loaded or unwrapped.",
  EXPORT_INVALID: 'An audit export file does not parse (pqseal audit verify).',
  AUDIT_CHAIN_BROKEN: 'A checkpoint run refused to sign a chain that did not verify.',
  BACKUP_REFUSED: 'pqseal backup or restore refused to run: the output exists, DATA_DIR is not empty, there is no store, or the store is PostgreSQL.',
  BACKUP_INVALID: 'A backup fails its integrity check, is not a pqseal store, or comes from a newer pqseal (pqseal restore).',
} as const satisfies Record<string, string>;

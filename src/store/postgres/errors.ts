import { StoreUnavailableError } from '../errors.js';

/**
 * What PostgreSQL and the `pg` driver report when the store cannot serve now, as opposed to a wrong
 * query (a bug) or a constraint (the caller's mistake). Matched on SQLSTATE
 * (https://www.postgresql.org/docs/15/errcodes-appendix.html), on Node's socket errors, and on the
 * few `pg` errors that carry no code (a connection that ended, a pool that timed out).
 */
const UNAVAILABLE_CLASSES = [
  '08', // connection exception
  '53', // insufficient resources: 53100 disk full, 53200 out of memory, 53300 too many connections
  '58', // system error (I/O)
];
const UNAVAILABLE_STATES = new Set([
  '40001', // serialization_failure (retried by inTransaction)
  '40P01', // deadlock_detected (retried by inTransaction)
  '55P03', // lock_not_available
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown, pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up, shutting down
  '57P05', // idle_session_timeout
  '25006', // read_only_sql_transaction: a standby, or default_transaction_read_only
  '3D000', // invalid_catalog_name: the database is gone
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const UNCODED_MESSAGES: readonly [RegExp, string][] = [
  [/^Connection terminated/, 'CONNECTION_LOST'],
  [/connection error and is not queryable/, 'CONNECTION_LOST'],
  [/Client was closed and is not queryable/, 'CONNECTION_LOST'],
  [/timeout exceeded when trying to connect/, 'CONNECT_TIMEOUT'],
  [/Cannot use a pool after calling end/, 'STORE_CLOSED'],
  [/driver has already been destroyed/, 'STORE_CLOSED'],
];

/** The reason `error` (or an error in its `cause` chain) says the store cannot serve now, else undefined. */
export function postgresUnavailableReason(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof StoreUnavailableError) return current.reason;
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      (UNAVAILABLE_STATES.has(code) || SOCKET_CODES.has(code) || UNAVAILABLE_CLASSES.some((c) => code.length === 5 && code.startsWith(c)))
    ) {
      return code;
    }
    const message = (current as { message?: unknown }).message;
    if (typeof message === 'string' && code === undefined) {
      const matched = UNCODED_MESSAGES.find(([pattern]) => pattern.test(message));
      if (matched) return matched[1];
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `error` as `StoreUnavailableError` when it means the store cannot serve now, else unchanged. */
export function asPostgresStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = postgresUnavailableReason(error);
  return reason === undefined ? error : new StoreUnavailableError(reason, { cause: error });
}

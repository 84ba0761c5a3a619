import { StoreClosedError, StoreUnavailableError } from '../ports/store-errors.js';

export { StoreClosedError, StoreUnavailableError };

/** Errors of the store layer, with stable codes (packages/sdk/src/catalogue.ts). */

export class StoreMigrationError extends Error {
  readonly code = 'STORE_MIGRATION_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreMigrationError';
  }
}

export class StoreOpenError extends Error {
  readonly code = 'STORE_OPEN_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

/**
 * SQLite result codes (https://sqlite.org/rescode.html) that mean "the store cannot be used right
 * now", not "this request is wrong" nor "the code is wrong": the disk is full, the file became
 * read-only or unreadable, another connection holds the lock, memory ran out. Extended codes
 * (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED, SQLITE_BUSY_SNAPSHOT, …) are covered by their
 * primary code's prefix.
 */
const UNAVAILABLE_SQLITE_CODES = [
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_PROTOCOL',
  'SQLITE_NOMEM',
  'SQLITE_NOLFS',
] as const;
const OTHER_UNAVAILABLE_CODES = new Set(['STORE_CLOSED', 'ECONNREFUSED']);

/**
 * The one place that decides whether an error means "the store cannot be used right now": the store
 * adapter (sqlite-connection.ts) turns such driver errors into `StoreUnavailableError`. Keyed on
 * SQLite's result-code names in `code`, as better-sqlite3 and libsql report them, so it does not
 * depend on the driver; a driver that reports them otherwise (node:sqlite: `ERR_SQLITE_ERROR` with a
 * numeric `errcode`) must translate in its connection adapter. Follows `cause`, so a wrapped store
 * error still counts. Returns the code that matched (a `StoreUnavailableError`'s reason), or undefined.
 */
export function storeUnavailableCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof StoreUnavailableError) return current.reason;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && isUnavailableCode(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `error` as the store's typed error when it means "the store cannot be used right now", else unchanged. */
export function asStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  const reason = storeUnavailableCode(error);
  return reason === undefined ? error : new StoreUnavailableError(reason, { cause: error });
}

function isUnavailableCode(code: string): boolean {
  return OTHER_UNAVAILABLE_CODES.has(code) || UNAVAILABLE_SQLITE_CODES.some((primary) => code === primary || code.startsWith(`${primary}_`));
}

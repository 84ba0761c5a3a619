/** Errors of the store layer, with stable codes (`STORE_CLOSED` is mapped to 503 by the HTTP layer). */

export class StoreClosedError extends Error {
  readonly code = 'STORE_CLOSED';
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

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
 * The one place that decides whether an error means "the store cannot be used right now" (the
 * HTTP layer answers 503 STORE_UNAVAILABLE with Retry-After): keyed on SQLite's result-code names as
 * the driver reports them in `code`, so it does not depend on which SQLite driver is in use.
 * Returns the code that matched, or undefined.
 */
export function storeUnavailableCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const unavailable =
    code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_READONLY' || code === 'STORE_CLOSED' || code === 'ECONNREFUSED';
  return unavailable ? code : undefined;
}

import { ERROR_CATALOGUE } from '@pqseal/sdk/catalogue';

/** The errors every store adapter raises when it cannot serve; the layers above see only these, never a driver's codes. */

/**
 * The store cannot be used right now (closed, disk full, read-only, I/O error, locked). The store
 * adapter turns the driver's errors of that kind into this one (sqlite-connection.ts), so the layers
 * above see one typed error, never a driver's codes; the HTTP layer answers 503 STORE_UNAVAILABLE.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(
    /** The driver's code that said so (`SQLITE_FULL`, `SQLITE_BUSY_SNAPSHOT`, …), or `STORE_CLOSED`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(ERROR_CATALOGUE.STORE_UNAVAILABLE.message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** A query after the store was closed (shutdown). */
export class StoreClosedError extends StoreUnavailableError {
  constructor() {
    super('STORE_CLOSED');
    this.name = 'StoreClosedError';
  }
}

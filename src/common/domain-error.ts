import type { ErrorCode } from '../errors/catalogue.js';

/**
 * The base of the domains' typed errors (identity, partners): a stable `code` of
 * src/errors/catalogue.ts (which gives its HTTP status) and a message safe to show to the client.
 */
export abstract class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  abstract readonly code: C;

  toJSON(): { code: C; message: string } {
    return { code: this.code, message: this.message };
  }
}

import type { ErrorCode } from '@pqseal/sdk/catalogue';

/**
 * The base of the domains' typed errors (identity, partners): a stable `code` of
 * packages/sdk/src/catalogue.ts (which gives its HTTP status) and a message safe to show to the client.
 */
export abstract class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  abstract readonly code: C;

  toJSON(): { code: C; message: string } {
    return { code: this.code, message: this.message };
  }
}

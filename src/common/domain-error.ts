/**
 * The base of the domains' typed errors (identity, partners): a stable `code` (the HTTP layer maps
 * codes to statuses) and a message safe to show to the client.
 */
export abstract class DomainError<C extends string = string> extends Error {
  abstract readonly code: C;

  toJSON(): { code: C; message: string } {
    return { code: this.code, message: this.message };
  }
}

import type { ErrorCode } from '../catalogue.js';

/** Typed envelope errors with stable codes of packages/sdk/src/catalogue.ts; messages never contain key material or plaintext. */

export type EnvelopeErrorCode = Extract<
  ErrorCode,
  | 'ENVELOPE_MALFORMED'
  | 'ENVELOPE_AUTH_FAILED'
  | 'ENVELOPE_UNSUPPORTED_VERSION'
  | 'ENVELOPE_UNSUPPORTED_SUITE'
  | 'ENVELOPE_TOO_LARGE'
  | 'ENVELOPE_NOT_SIGNED'
  | 'KEY_NOT_FOUND'
>;

export class EnvelopeError extends Error {
  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeError';
  }
}

export const malformed = (what: string): EnvelopeError => new EnvelopeError('ENVELOPE_MALFORMED', `envelope is malformed: ${what}`);

export function isEnvelopeError(e: unknown): e is EnvelopeError {
  return e instanceof EnvelopeError;
}

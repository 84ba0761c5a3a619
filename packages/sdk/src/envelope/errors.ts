import type { ErrorCode } from '../catalogue.js';

/** Typed envelope errors with stable codes of packages/sdk/src/catalogue.ts; messages never contain key material or plaintext. */

/** The codes an envelope can fail with (the SDK maps them to EncryptError / DecryptError). */
export const ENVELOPE_ERROR_CODES = [
  'ENVELOPE_MALFORMED',
  'ENVELOPE_AUTH_FAILED',
  'ENVELOPE_UNSUPPORTED_VERSION',
  'ENVELOPE_UNSUPPORTED_SUITE',
  'ENVELOPE_TOO_LARGE',
  'ENVELOPE_NOT_SIGNED',
  'KEY_NOT_FOUND',
] as const satisfies readonly ErrorCode[];

export type EnvelopeErrorCode = (typeof ENVELOPE_ERROR_CODES)[number];

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

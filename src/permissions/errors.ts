import { ServiceError } from '../core/errors.js';

/**
 * Every refusal to open an envelope — foreign, not listed, listed without `read`, expired, revoked —
 * is this one answer, so the response never tells whether the envelope names the caller.
 */
export function accessDenied(): ServiceError {
  return new ServiceError(403, 'ENVELOPE_ACCESS_DENIED', 'this organisation may not open this envelope');
}

/**
 * A revocation or restore names an envelope id the caller's organisation did not seal. 404, not 403:
 * the answer does not confirm that another organisation's envelope with this id exists.
 */
export function envelopeNotFound(): ServiceError {
  return new ServiceError(404, 'ENVELOPE_NOT_FOUND', 'this organisation sealed no envelope with this id');
}

/** The revocation state could not be read: partner opens fail closed. */
export class RevocationStateUnavailableError extends ServiceError {
  constructor(options?: { cause?: unknown }) {
    super(503, 'REVOCATION_STATE_UNAVAILABLE', 'the revocation state cannot be read right now; partner access is refused until it can', undefined, 5);
    this.name = 'RevocationStateUnavailableError';
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

import { ServiceError } from '../common/service-error.js';

/**
 * Every refusal to open an envelope — foreign, not listed, listed without `read`, expired, revoked —
 * is this one answer, so the response never tells whether the envelope names the caller.
 */
export function accessDenied(): ServiceError<'ENVELOPE_ACCESS_DENIED'> {
  return new ServiceError('ENVELOPE_ACCESS_DENIED');
}

/**
 * A revocation or restore names an envelope id the caller's organisation did not seal. 404, not 403:
 * the answer does not confirm that another organisation's envelope with this id exists.
 */
export function envelopeNotFound(): ServiceError<'ENVELOPE_NOT_FOUND'> {
  return new ServiceError('ENVELOPE_NOT_FOUND');
}

/** The revocation state could not be read: partner opens fail closed. */
export class RevocationStateUnavailableError extends ServiceError<'REVOCATION_STATE_UNAVAILABLE'> {
  constructor(options?: { cause?: unknown }) {
    super('REVOCATION_STATE_UNAVAILABLE', undefined, options);
    this.name = 'RevocationStateUnavailableError';
  }
}

/** A revocation or restore could not commit with its audit record: nothing was changed, the caller may retry. */
export class SharingChangeNotCommittedError extends ServiceError<'STORE_UNAVAILABLE'> {
  constructor(options?: { cause?: unknown }) {
    super('STORE_UNAVAILABLE', 'the change could not be committed with its audit record; nothing was changed', { ...options, retryAfterSeconds: 1 });
    this.name = 'SharingChangeNotCommittedError';
  }
}

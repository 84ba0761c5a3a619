/**
 * Errors of the service layer, each with a stable code and the HTTP status it maps to. Messages are
 * safe to show: they never include secrets or payload data.
 */
export class ServiceError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const validationError = (message: string, details?: Record<string, unknown>) => new ServiceError(400, 'VALIDATION_ERROR', message, details);

/** The status of each envelope error code on the wire. */
export const ENVELOPE_ERROR_STATUS: Record<string, number> = {
  ENVELOPE_MALFORMED: 400,
  ENVELOPE_UNSUPPORTED_VERSION: 400,
  ENVELOPE_UNSUPPORTED_SUITE: 400,
  ENVELOPE_AUTH_FAILED: 400,
  ENVELOPE_TOO_LARGE: 413,
  ENVELOPE_NOT_SIGNED: 422,
  KEY_NOT_FOUND: 400,
  VALIDATION_ERROR: 400,
};

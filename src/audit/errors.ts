/** Errors of the audit log, with stable codes (mapped to HTTP statuses by the HTTP layer). */

/** The audit log could not be written: the request it describes must not be answered 2xx. */
export class AuditUnavailableError extends Error {
  readonly code = 'AUDIT_UNAVAILABLE';
  readonly status = 503;
  readonly retryAfterSeconds = 1;
  constructor(message = 'the audit log could not be written', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditUnavailableError';
  }
}

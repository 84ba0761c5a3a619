import { errorSpec, isErrorCode, type ErrorCode } from '@pqseal/sdk/catalogue';

export interface ServiceErrorOptions {
  readonly details?: Record<string, unknown> | undefined;
  /** Overrides the catalogue's `retryAfterSeconds` (a rate limit knows when its bucket refills). */
  readonly retryAfterSeconds?: number | undefined;
  readonly cause?: unknown;
}

/**
 * Errors of the service layer, each with a stable code of packages/sdk/src/catalogue.ts, which gives its
 * HTTP status and whether it is retryable. The message defaults to the catalogue's; one given here
 * must be as safe to show: never secrets or payload data.
 */
export class ServiceError<C extends ErrorCode = ErrorCode> extends Error {
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: C,
    message: string = errorSpec(code).message,
    options: ServiceErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ServiceError';
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const validationError = (message: string, details?: Record<string, unknown>) => new ServiceError('VALIDATION_ERROR', message, { details });

/** A failure a crypto worker reported by its code: an envelope error code, or VALIDATION_ERROR. */
export function serviceErrorFromCode(code: string, message: string): ServiceError {
  return isErrorCode(code) ? new ServiceError(code, message) : new ServiceError('INTERNAL_ERROR');
}

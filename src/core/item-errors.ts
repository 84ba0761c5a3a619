import { isErrorCode } from '@pqseal/sdk/catalogue';
import { ServiceError } from '../common/service-error.js';
import { StoreUnavailableError } from '../ports/store-errors.js';

/** An item's failure as a catalogue error; anything unexpected is INTERNAL_ERROR, its cause kept for the log. */
export function asServiceError(e: unknown): ServiceError {
  if (e instanceof ServiceError) return e as ServiceError;
  if (e instanceof StoreUnavailableError) return new ServiceError('STORE_UNAVAILABLE', undefined, { cause: e });
  const code = (e as { code?: unknown } | null)?.code;
  if (isErrorCode(code) && e instanceof Error) return new ServiceError(code, e.message, { cause: e });
  return new ServiceError('INTERNAL_ERROR', undefined, { cause: e });
}

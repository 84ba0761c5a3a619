import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CryptoPoolBusyError, CryptoTimeoutError } from '../core/crypto-pool.js';
import { ServiceError } from '../core/errors.js';
import { storeUnavailableCode } from '../store/errors.js';

/** Status for errors raised by the identity pool and partner registry, by their stable code. */
const STATUS_BY_CODE: Record<string, number> = {
  NOT_AUTHORIZED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  LOGIN_THROTTLED: 429,
  LOGIN_RATE_LIMITED: 429,
  PARTNER_CREDENTIALS_INVALID: 403,
  VALIDATION_ERROR: 400,
  USERNAME_EXISTS: 409,
  USER_NOT_FOUND: 404,
  ORGANISATION_NOT_FOUND: 404,
  // Raised by organisation creation and renaming (CLI only today; a route that adds them answers 4xx, not 500).
  ORG_NAME_INVALID: 400,
  ORG_NAME_TAKEN: 409,
  CREDENTIALS_NOT_FOUND: 404,
  AUDIT_UNAVAILABLE: 503,
};

export const BAD_CREDENTIALS_MESSAGE = 'Username and/or Password Incorrect';

export interface WireError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown> | undefined;
  readonly retryAfterSeconds?: number | undefined;
}

/** Maps anything thrown while serving a request to what the client sees. Unknown errors are 500. */
export function toWireError(error: unknown): WireError {
  if (error instanceof ServiceError) {
    return { status: error.status, code: error.code, message: error.message, details: error.details, retryAfterSeconds: error.retryAfterSeconds };
  }
  if (error instanceof CryptoPoolBusyError || error instanceof CryptoTimeoutError)
    return { status: 503, code: error.code, message: error.message, retryAfterSeconds: 1 };
  const e = error as Partial<FastifyError> & { code?: unknown; retryAfterSeconds?: unknown };
  if (typeof e.code === 'string' && e.code in STATUS_BY_CODE) {
    const status = STATUS_BY_CODE[e.code] as number;
    const message = e.code === 'NOT_AUTHORIZED' ? BAD_CREDENTIALS_MESSAGE : String(e.message);
    const retryAfterSeconds = typeof e.retryAfterSeconds === 'number' ? e.retryAfterSeconds : undefined;
    return { status, code: e.code, message, retryAfterSeconds };
  }
  if (e.validation) {
    return { status: 400, code: 'VALIDATION_ERROR', message: validationMessage(e as FastifyError) };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'BODY_TOO_LARGE', message: 'request body is larger than the configured limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send the body as application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'INVALID_JSON', message: 'the body is not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'INVALID_CONTENT_LENGTH', message: 'content-length does not match the body' };
    // The router's refusals (src/http/framework-errors.ts); their messages would echo the path back.
    case 'FST_ERR_BAD_URL':
      return { status: 400, code: 'BAD_REQUEST', message: 'the request path is not valid percent-encoding' };
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return { status: 414, code: 'PATH_PARAMETER_TOO_LONG', message: 'a path parameter is longer than the server accepts' };
  }
  if (e.name === 'SyntaxError' && e.statusCode === 400) return { status: 400, code: 'INVALID_JSON', message: 'the body is not valid JSON' };
  if (storeUnavailableCode(error) !== undefined)
    return { status: 503, code: 'STORE_UNAVAILABLE', message: 'the data store is unavailable', retryAfterSeconds: 5 };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: String(e.code ?? 'BAD_REQUEST'), message: String(e.message) };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal error; the request id identifies it in the server log' };
}

function validationMessage(error: FastifyError): string {
  const first = error.validation?.[0];
  if (!first) return error.message;
  const where = error.validationContext ?? 'request';
  const path = first.instancePath ? first.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
  if (first.keyword === 'required') return `${where}: missing required ${where === 'headers' ? 'header' : 'field'} "${String(first.params.missingProperty)}"`;
  if (first.keyword === 'additionalProperties') return `${where}: unknown field "${String(first.params.additionalProperty)}"`;
  if (first.keyword === 'enum' && Array.isArray(first.params.allowedValues)) {
    return `${where}${path ? `.${path}` : ''} must be one of ${first.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where}${path ? `.${path}` : ''} ${first.message ?? 'is invalid'}`;
}

export function isManagedRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/v1/');
}

/** Writes an error in the shape of the path it came in on. */
export function sendError(request: FastifyRequest, reply: FastifyReply, wire: WireError): FastifyReply {
  if (wire.retryAfterSeconds !== undefined) void reply.header('retry-after', String(wire.retryAfterSeconds));
  const error = { code: wire.code, message: wire.message, ...(wire.details ? { details: wire.details } : {}) };
  void reply.code(wire.status);
  return isManagedRequest(request) ? reply.send({ statusCode: wire.status, body: { error } }) : reply.send(error);
}

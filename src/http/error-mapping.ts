import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../common/service-error.js';
import { errorSpec, isErrorCode, type ErrorCode } from '@pqseal/sdk/catalogue';
import { StoreUnavailableError } from '../ports/store-errors.js';

export interface WireError {
  readonly status: number;
  /** A catalogue code, or the code of a framework 4xx the catalogue does not know (passed through). */
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown> | undefined;
  readonly retryAfterSeconds?: number | undefined;
}

/** The answer for a catalogue code: its status, its `Retry-After` unless the error says otherwise. */
export function wireError(
  code: ErrorCode,
  message: string = errorSpec(code).message,
  extra: { details?: Record<string, unknown> | undefined; retryAfterSeconds?: number | undefined } = {},
): WireError {
  const spec = errorSpec(code);
  return { status: spec.status, code, message, details: extra.details, retryAfterSeconds: extra.retryAfterSeconds ?? spec.retryAfterSeconds };
}

/** The catalogue code each refusal of Fastify's body parser and router is answered with. */
const FRAMEWORK_CODES: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
  // The router's refusals (src/http/framework-errors.ts); their messages would echo the path back.
  FST_ERR_BAD_URL: { code: 'BAD_REQUEST', message: 'the request path is not valid percent-encoding' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'PATH_PARAMETER_TOO_LONG' },
};

/**
 * Maps anything thrown while serving a request to what the client sees: an error with a catalogue
 * code gets the catalogue's status; unknown errors are 500 INTERNAL_ERROR.
 */
export function toWireError(error: unknown): WireError {
  const e = error as Partial<FastifyError> & { code?: unknown; retryAfterSeconds?: unknown };
  if (isErrorCode(e.code)) {
    const message = e.code === 'NOT_AUTHORIZED' ? errorSpec('NOT_AUTHORIZED').message : String(e.message);
    const details = error instanceof ServiceError ? error.details : undefined;
    return wireError(e.code, message, { details, retryAfterSeconds: typeof e.retryAfterSeconds === 'number' ? e.retryAfterSeconds : undefined });
  }
  if (e.validation) return wireError('VALIDATION_ERROR', validationMessage(e as FastifyError));
  const framework = typeof e.code === 'string' ? FRAMEWORK_CODES[e.code] : undefined;
  if (framework) return wireError(framework.code, framework.message);
  if (e.name === 'SyntaxError' && e.statusCode === 400) return wireError('INVALID_JSON');
  if (causedByUnavailableStore(error)) return wireError('STORE_UNAVAILABLE');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: String(e.code ?? 'BAD_REQUEST'), message: String(e.message) };
  }
  return wireError('INTERNAL_ERROR');
}

/** A failure whose cause (or its cause, …) is the store's typed "cannot be used right now". */
function causedByUnavailableStore(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++, current = current.cause) {
    if (current instanceof StoreUnavailableError) return true;
  }
  return false;
}

function validationMessage(error: FastifyError): string {
  return schemaErrorMessage(error.validation, error.validationContext ?? 'request') ?? error.message;
}

/** The first schema error as the message of a VALIDATION_ERROR (`where`: body, headers, batch_input[3], …). */
export function schemaErrorMessage(errors: FastifyError['validation'] | null | undefined, where: string): string | undefined {
  const first = errors?.[0];
  if (!first) return undefined;
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
/** The error code each answered request was refused with (read by the metrics hook). */
const sentCodes = new WeakMap<FastifyRequest, string>();

export function sentErrorCode(request: FastifyRequest): string | undefined {
  return sentCodes.get(request);
}

/** For answers in another wire shape than `sendError`'s (the identity provider's InitiateAuth errors). */
export function noteErrorCode(request: FastifyRequest, code: string): void {
  sentCodes.set(request, code);
}

export function sendError(request: FastifyRequest, reply: FastifyReply, wire: WireError): FastifyReply {
  sentCodes.set(request, wire.code);
  if (wire.retryAfterSeconds !== undefined) void reply.header('retry-after', String(wire.retryAfterSeconds));
  const error = { code: wire.code, message: wire.message, ...(wire.details ? { details: wire.details } : {}) };
  void reply.code(wire.status);
  return isManagedRequest(request) ? reply.send({ statusCode: wire.status, body: { error } }) : reply.send(error);
}

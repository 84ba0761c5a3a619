import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { sendError, toWireError } from './error-mapping.js';
import { setSecurityHeaders } from './security-headers.js';

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs (a path that is
 * not valid percent-encoding, FST_ERR_BAD_URL; a path parameter over `maxParamLength`,
 * FST_ERR_MAX_PARAM_LENGTH). No hook runs for these answers, so the request id and the security
 * headers are set here; the body is the API's error shape for the path, never the framework's.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const wire = toWireError(error);
  if (wire.status >= 500) request.log.error({ err: error, code: wire.code }, 'request failed');
  else request.log.info({ code: wire.code, status: wire.status }, 'request rejected');
  void reply.header('x-request-id', request.id);
  setSecurityHeaders(reply);
  void sendError(request, reply, wire);
}

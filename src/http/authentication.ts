import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../core/operations.js';
import { directCaller, managedCaller } from './routes/callers.js';
import type { HttpServices } from './services.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that take a body authenticate their caller before reading it: which path's credentials. */
    authenticate?: 'managed' | 'direct';
  }
  interface FastifyRequest {
    /** Set by the `onRequest` authentication of a route with `config.authenticate`. */
    caller: Caller | null;
  }
}

/**
 * Checks the credential headers (the five Managed ones, or the bearer token and the partner headers)
 * in `onRequest`, before a byte of the body is read: an unauthenticated request gets its 400/401/403
 * without its body being accepted, and holds no body capacity (src/http/admission.ts charges bodies
 * after this hook). The headers are validated against the route's schema first, with the same 400 the
 * validation step would give later.
 */
export function installAuthentication(app: FastifyInstance, services: HttpServices): void {
  app.decorateRequest('caller', null);
  app.addHook('onRequest', async (request) => {
    const path = request.routeOptions.config?.authenticate;
    if (!path) return;
    checkHeaders(request);
    request.caller = path === 'managed' ? await managedCaller(request, services) : await directCaller(request, services);
  });
}

function checkHeaders(request: FastifyRequest): void {
  const validate = request.getValidationFunction('headers');
  if (!validate || validate(request.headers)) return;
  // The shape of Fastify's own validation error, which src/http/error-mapping.ts turns into VALIDATION_ERROR.
  throw Object.assign(new Error('invalid headers'), { statusCode: 400, validation: validate.errors ?? [], validationContext: 'headers' });
}

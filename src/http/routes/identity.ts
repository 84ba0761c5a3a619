import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditContext } from '../audit-hooks.js';
import { noteErrorCode } from '../error-mapping.js';
import type { AuthResult, HttpServices } from '../services.js';

/**
 * The identity provider's InitiateAuth wire call at `POST /` (AWS JSON 1.1 protocol, recognised by
 * X-Amz-Target), so an identity-provider SDK whose `endpoint` is this server's base URL can log in.
 * Errors are shaped as that service shapes them: HTTP 400 (429 for the per-address login limit),
 * `x-amzn-ErrorType`, `{__type, message}`.
 * Unknown users answer NotAuthorizedException like a pool with user-existence errors prevented.
 */

const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const AMZ_JSON = 'application/x-amz-json-1.1';

interface InitiateAuthBody {
  AuthFlow?: unknown;
  ClientId?: unknown;
  AuthParameters?: Record<string, unknown>;
}

export async function identityRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.addContentTypeParser(AMZ_JSON, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(null, { __invalid: true });
    }
  });

  app.post('/', {
    schema: {
      tags: ['Identity pool'],
      summary: 'InitiateAuth (identity-provider wire protocol)',
      description:
        'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth, Content-Type: application/x-amz-json-1.1. Flows USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH. ' +
        'Errors: HTTP 400 {__type, message} (NotAuthorizedException, "Password attempts exceeded" with Retry-After while the username is locked); ' +
        'HTTP 429 TooManyRequestsException with Retry-After when the client address has used its login budget (PQSEAL_LOGIN_RATE_PER_ADDRESS). Every call that checks credentials is audited.',
      headers: { type: 'object', properties: { 'x-amz-target': { type: 'string' } } },
    },
    handler: async (request, reply) => {
      const target = String(request.headers['x-amz-target'] ?? '');
      if (!target.startsWith(TARGET_PREFIX)) return amzError(reply, 400, 'UnknownOperationException', 'missing or unknown X-Amz-Target');
      const operation = target.slice(TARGET_PREFIX.length);
      if (operation !== 'InitiateAuth') return amzError(reply, 400, 'UnknownOperationException', `${operation} is not supported`);
      const body = request.body;
      if (!isJsonObject(body)) return amzError(reply, 400, 'SerializationException', 'the body is not a JSON object');
      if ('__invalid' in body) return amzError(reply, 400, 'SerializationException', 'body is not valid JSON');
      if (body.ClientId !== services.identity.clientId) {
        return amzError(reply, 400, 'ResourceNotFoundException', `User pool client ${String(body.ClientId)} does not exist.`);
      }
      const params = body.AuthParameters ?? {};
      switch (body.AuthFlow) {
        case 'USER_PASSWORD_AUTH': {
          const audit = startLoginAudit(request, 'login');
          const { USERNAME, PASSWORD } = params;
          if (typeof USERNAME !== 'string' || typeof PASSWORD !== 'string') {
            audit.errorCode = 'VALIDATION_ERROR';
            return amzError(reply, 400, 'InvalidParameterException', 'Missing required parameter USERNAME or PASSWORD');
          }
          return settle(reply, audit, services.identity.passwordAuth(USERNAME, PASSWORD, { clientAddress: request.ip }));
        }
        case 'REFRESH_TOKEN_AUTH':
        case 'REFRESH_TOKEN': {
          const audit = startLoginAudit(request, 'login.refresh');
          const { REFRESH_TOKEN } = params;
          if (typeof REFRESH_TOKEN !== 'string') {
            audit.errorCode = 'VALIDATION_ERROR';
            return amzError(reply, 400, 'InvalidParameterException', 'Missing required parameter REFRESH_TOKEN');
          }
          return settle(reply, audit, services.identity.refreshAuth(REFRESH_TOKEN));
        }
        default:
          return amzError(
            reply,
            400,
            'InvalidParameterException',
            `AuthFlow ${String(body.AuthFlow)} is not supported; use USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH`,
          );
      }
    },
  });

  app.get('/.well-known/jwks.json', { schema: { tags: ['Identity pool'], summary: 'Public keys of the identity pool (JWKS)' } }, async () =>
    services.identity.jwks(),
  );

  app.get('/.well-known/openid-configuration', { schema: { tags: ['Identity pool'], summary: 'OpenID discovery document' } }, async () =>
    services.identity.openidConfiguration(),
  );
}

/**
 * Every credential check of InitiateAuth leaves an audit record (written by the audit hooks as the
 * response is sent): the user's organisation chain when the user is known, `_service` otherwise.
 * The record holds ids, outcome, code and client address — never the username or password.
 */
function startLoginAudit(request: FastifyRequest, operation: 'login' | 'login.refresh'): AuditContext {
  const audit: AuditContext = { operation, via: 'direct', recorded: false };
  request.audit = audit;
  return audit;
}

async function settle(reply: FastifyReply, audit: AuditContext, outcome: Promise<AuthResult>): Promise<FastifyReply> {
  let result: AuthResult;
  try {
    result = await outcome;
  } catch (e) {
    const error = e as { code?: unknown; subject?: { userId?: unknown; orgId?: unknown }; retryAfterSeconds?: unknown };
    const code = typeof error.code === 'string' ? error.code : undefined;
    if (typeof error.subject?.userId === 'string' && typeof error.subject.orgId === 'string') {
      audit.userId = error.subject.userId;
      audit.orgId = error.subject.orgId;
    }
    const retryAfter = typeof error.retryAfterSeconds === 'number' ? String(error.retryAfterSeconds) : '1';
    audit.errorCode = code;
    if (code !== undefined) noteErrorCode(reply.request, code);
    switch (code) {
      case 'NOT_AUTHORIZED':
        return amzError(reply, 400, 'NotAuthorizedException', 'Incorrect username or password.');
      case 'LOGIN_THROTTLED':
        return amzError(reply.header('retry-after', retryAfter), 400, 'NotAuthorizedException', 'Password attempts exceeded');
      case 'LOGIN_RATE_LIMITED':
        return amzError(reply.header('retry-after', retryAfter), 429, 'TooManyRequestsException', 'Too many login attempts from this address; retry later.');
      case 'TOKEN_INVALID':
      case 'TOKEN_EXPIRED':
        return amzError(reply, 400, 'NotAuthorizedException', 'Invalid Refresh Token');
      default:
        throw e;
    }
  }
  audit.userId = result.userId;
  audit.orgId = result.orgId;
  return amzResult(reply, result);
}

/** What InitiateAuth takes: a JSON object in the body (not text, an array, null or a number). */
function isJsonObject(body: unknown): body is InitiateAuthBody {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

function amzResult(reply: FastifyReply, result: AuthResult): FastifyReply {
  return reply.type(AMZ_JSON).send({
    AuthenticationResult: {
      AccessToken: result.accessToken,
      ExpiresIn: result.expiresIn,
      IdToken: result.idToken,
      ...(result.refreshToken ? { RefreshToken: result.refreshToken } : {}),
      TokenType: 'Bearer',
    },
    ChallengeParameters: {},
  });
}

function amzError(reply: FastifyReply, status: number, type: string, message: string): FastifyReply {
  return reply.code(status).type(AMZ_JSON).header('x-amzn-errortype', `${type}:`).send({ __type: type, message });
}

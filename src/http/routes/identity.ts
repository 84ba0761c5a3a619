import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AuthResult, HttpServices } from '../services.js';

/**
 * The identity provider's InitiateAuth wire call at `POST /` (AWS JSON 1.1 protocol, recognised by
 * X-Amz-Target), so an identity-provider SDK whose `endpoint` is this server's base URL can log in.
 * Errors are shaped as that service shapes them: HTTP 400, `x-amzn-ErrorType`, `{__type, message}`.
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
      description: 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth, Content-Type: application/x-amz-json-1.1. Flows USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH.',
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
      try {
        switch (body.AuthFlow) {
          case 'USER_PASSWORD_AUTH': {
            const { USERNAME, PASSWORD } = params;
            if (typeof USERNAME !== 'string' || typeof PASSWORD !== 'string') {
              return amzError(reply, 400, 'InvalidParameterException', 'Missing required parameter USERNAME or PASSWORD');
            }
            return amzResult(reply, await services.identity.passwordAuth(USERNAME, PASSWORD));
          }
          case 'REFRESH_TOKEN_AUTH':
          case 'REFRESH_TOKEN': {
            const { REFRESH_TOKEN } = params;
            if (typeof REFRESH_TOKEN !== 'string') return amzError(reply, 400, 'InvalidParameterException', 'Missing required parameter REFRESH_TOKEN');
            return amzResult(reply, await services.identity.refreshAuth(REFRESH_TOKEN));
          }
          default:
            return amzError(reply, 400, 'InvalidParameterException', `AuthFlow ${String(body.AuthFlow)} is not supported; use USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH`);
        }
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (code === 'NOT_AUTHORIZED') return amzError(reply, 400, 'NotAuthorizedException', 'Incorrect username or password.');
        if (code === 'LOGIN_THROTTLED') {
          const retry = (e as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1;
          void reply.header('retry-after', String(retry));
          return amzError(reply, 400, 'NotAuthorizedException', 'Password attempts exceeded');
        }
        if (code === 'TOKEN_INVALID' || code === 'TOKEN_EXPIRED' || code === 'REFRESH_TOKEN_INVALID') {
          return amzError(reply, 400, 'NotAuthorizedException', 'Invalid Refresh Token');
        }
        throw e;
      }
    },
  });

  app.get('/.well-known/jwks.json', { schema: { tags: ['Identity pool'], summary: 'Public keys of the identity pool (JWKS)' } }, async () =>
    services.identity.jwks(),
  );

  app.get('/.well-known/openid-configuration', { schema: { tags: ['Identity pool'], summary: 'OpenID discovery document' } }, async (request) =>
    services.identity.openidConfiguration(`${request.protocol}://${request.host}`),
  );
}

/** What InitiateAuth takes: a JSON object in the body (not text, an array, null or a number). */
function isJsonObject(body: unknown): body is InitiateAuthBody {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

function amzResult(reply: FastifyReply, result: AuthResult): FastifyReply {
  return reply
    .type(AMZ_JSON)
    .send({
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

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError } from '../../common/service-error.js';
import { addressKey } from '../../common/client-address.js';
import { errorBody, managed, managedError } from '../schemas.js';
import type { HttpServices } from '../services.js';

/**
 * Published public keys, unauthenticated, so anyone can verify envelope signatures and audit
 * checkpoints without trusting the server:
 *
 *   GET /v1/keys/<org id>   GET /keys/<org id>    an organisation's signing and KEM keys, every version
 *   GET /v1/keys/service    GET /keys/service     the service key that signs audit checkpoints
 *
 * `/v1` answers in the Managed wrapper {statusCode, body}, the root paths plain JSON. The document
 * format is fixed (README "Public keys"; src/keys/public-key-document.ts).
 */

export const publicKeyDocumentSchema = {
  type: 'object',
  required: ['org_id', 'name', 'keys'],
  properties: {
    org_id: { type: 'string', description: 'Organisation id ("_service" for the service key)' },
    name: { type: 'string', description: 'Display name (what signed_by shows)' },
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key_id', 'kind', 'version', 'algorithm', 'public_key', 'created_at', 'active'],
        properties: {
          key_id: { type: 'string', description: 'e.g. org_….sig.v1 (the signer_key_id of decrypt-verify)' },
          kind: { type: 'string', enum: ['signing', 'kem'] },
          version: { type: 'integer' },
          algorithm: { type: 'string', enum: ['MLDSA65-Ed25519-SHA512', 'X-Wing'] },
          public_key: {
            type: 'string',
            description: 'base64url without padding: signing = pk_ML-DSA-65 (1952 B) ‖ pk_Ed25519 (32 B); kem = pk_ML-KEM-768 (1184 B) ‖ pk_X25519 (32 B)',
          },
          created_at: { type: 'string' },
          active: { type: 'boolean', description: 'The newest version of its kind' },
          purpose: { type: 'string', description: 'Service key only: "audit-checkpoint"' },
          context: { type: 'string', description: 'Service key only: the composite-signature context string' },
        },
      },
    },
  },
} as const;

const params = { type: 'object', required: ['orgId'], properties: { orgId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } } } as const;

export async function keyRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  const serviceDescription =
    'The service\'s composite ML-DSA-65+Ed25519 key that signs audit checkpoints (context "pqseal-audit-checkpoint-v1"). Unauthenticated.';
  const orgDescription = "An organisation's public signing and KEM keys, every version, newest first. Unauthenticated.";

  app.get('/v1/keys/service', {
    schema: {
      tags: ['Public keys'],
      summary: 'Service public key (Managed wrapper)',
      description: serviceDescription,
      response: { 200: managed(publicKeyDocumentSchema), '4xx': managedError, '5xx': managedError },
    },
    handler: async (request, reply) => ({ statusCode: 200, body: await serviceKeys(request, reply, services) }),
  });
  app.get('/keys/service', {
    schema: {
      tags: ['Public keys'],
      summary: 'Service public key',
      description: serviceDescription,
      response: { 200: publicKeyDocumentSchema, '4xx': errorBody, '5xx': errorBody },
    },
    handler: async (request, reply) => serviceKeys(request, reply, services),
  });
  app.get('/v1/keys/:orgId', {
    schema: {
      tags: ['Public keys'],
      summary: 'Organisation public keys (Managed wrapper)',
      description: orgDescription,
      params,
      response: { 200: managed(publicKeyDocumentSchema), '4xx': managedError, '5xx': managedError },
    },
    handler: async (request, reply) => ({ statusCode: 200, body: await orgKeys(request, reply, services) }),
  });
  app.get('/keys/:orgId', {
    schema: {
      tags: ['Public keys'],
      summary: 'Organisation public keys',
      description: orgDescription,
      params,
      response: { 200: publicKeyDocumentSchema, '4xx': errorBody, '5xx': errorBody },
    },
    handler: async (request, reply) => orgKeys(request, reply, services),
  });
}

async function serviceKeys(request: FastifyRequest, reply: FastifyReply, services: HttpServices) {
  await services.limiter.take(`keys:${addressKey(request.ip)}`);
  void reply.header('cache-control', 'public, max-age=60');
  return services.sharing.publicKeys.service();
}

async function orgKeys(request: FastifyRequest, reply: FastifyReply, services: HttpServices) {
  await services.limiter.take(`keys:${addressKey(request.ip)}`);
  const { orgId } = request.params as { orgId: string };
  const doc = await services.sharing.publicKeys.org(orgId);
  if (!doc) throw new ServiceError('ORGANISATION_NOT_FOUND', `no organisation with id ${orgId}`);
  void reply.header('cache-control', 'public, max-age=60');
  return doc;
}

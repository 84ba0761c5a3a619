import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../core/operations.js';
import type { RevocationActor } from '../../permissions/revocations.js';
import { directHeaders, errorBody, managed, managedError, managedHeaders } from '../schemas.js';
import type { HttpServices } from '../services.js';
import { directCaller, managedCaller } from './callers.js';

/**
 * Revocation and restoration of partner access, on both paths:
 *
 *   POST /v1/permissions/revoke   POST /permissions/revoke    {partner_id, envelope_id?}
 *   POST /v1/permissions/restore  POST /permissions/restore   {partner_id, envelope_id?}
 *   GET  /v1/permissions          GET  /permissions           ?envelope_id=&partner_id=&limit=&cursor=
 *
 * Without envelope_id a revocation covers every envelope of the caller's organisation. Only the
 * owner organisation can change the state of its envelopes: rows are keyed by the caller's org, and
 * an envelope id the caller did not seal is 404 ENVELOPE_NOT_FOUND (src/permissions/revocations.ts).
 * The server stores no envelopes, so it lists revocations, not the grants inside an envelope.
 */

const orgId = { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } as const;
const envelopeId = { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'Envelope id (32 lowercase hex), as returned by encrypt/sign-encrypt' } as const;

const changeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['partner_id'],
  properties: {
    partner_id: { ...orgId, description: 'Organisation id of the partner' },
    envelope_id: { ...envelopeId, description: "One envelope; omit to cover every envelope of the caller's organisation" },
  },
} as const;

const nullableString = { type: ['string', 'null'] } as const;

const changeResult = {
  type: 'object',
  required: ['owner_org_id', 'partner_id', 'envelope_id', 'scope', 'revoked', 'changed', 'revoked_at', 'access_revoked'],
  properties: {
    owner_org_id: { type: 'string' },
    partner_id: { type: 'string' },
    envelope_id: nullableString,
    scope: { type: 'string', enum: ['envelope', 'all_envelopes'] },
    revoked: { type: 'boolean', description: 'Whether this rule is in force now' },
    changed: { type: 'boolean', description: 'False when the state already was as asked (the calls are idempotent)' },
    revoked_at: { ...nullableString, description: 'When this rule was made (null when not in force)' },
    access_revoked: {
      type: 'boolean',
      description: 'Whether the partner is refused for this scope by any rule now (an envelope stays refused while all envelopes are revoked)',
    },
  },
} as const;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    envelope_id: { ...envelopeId, description: 'Only revocations that affect this envelope (its own and the partner-wide ones)' },
    partner_id: orgId,
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: '1–500, default 100' },
    cursor: { type: 'string', maxLength: 512, description: 'next_cursor of the previous page' },
  },
} as const;

const listResult = {
  type: 'object',
  required: ['owner_org_id', 'envelope_id', 'revocations', 'next_cursor'],
  properties: {
    owner_org_id: { type: 'string' },
    envelope_id: nullableString,
    revocations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['partner_id', 'envelope_id', 'scope', 'revoked_at', 'revoked_by'],
        properties: {
          partner_id: { type: 'string' },
          envelope_id: nullableString,
          scope: { type: 'string', enum: ['envelope', 'all_envelopes'] },
          revoked_at: { type: 'string' },
          revoked_by: { ...nullableString, description: 'User id that revoked (or "cli")' },
        },
      },
    },
    next_cursor: nullableString,
  },
} as const;

interface ChangeBody {
  partner_id: string;
  envelope_id?: string;
}
interface ListQuery {
  envelope_id?: string;
  partner_id?: string;
  limit?: string;
  cursor?: string;
}

const MAX_LIMIT = 500;

export async function permissionRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  for (const action of ['revoke', 'restore'] as const) {
    const description =
      action === 'revoke'
        ? "Revoke a partner's access to one envelope of the caller's organisation, or (without envelope_id) to all of them. Takes effect for the next open; no ciphertext changes. Idempotent. An envelope_id the caller's organisation did not seal is 404 ENVELOPE_NOT_FOUND."
        : "Restore access taken away by revoke (the same partner_id and envelope_id). Idempotent. An envelope_id the caller's organisation did not seal is 404 ENVELOPE_NOT_FOUND.";
    const operation = action === 'revoke' ? 'permissions.revoke' : 'permissions.restore';

    app.post(`/v1/permissions/${action}`, {
      config: { audit: operation, authenticate: 'managed' },
      schema: {
        tags: ['Sharing'],
        summary: `${action} partner access (Managed)`,
        description,
        headers: managedHeaders,
        body: changeBody,
        response: { 200: managed(changeResult), '4xx': managedError, '5xx': managedError },
      },
      handler: async (request) => {
        const caller = await managedCaller(request, services);
        return { statusCode: 200, body: await change(request, services, caller, action) };
      },
    });

    app.post(`/permissions/${action}`, {
      config: { audit: operation, authenticate: 'direct' },
      schema: {
        tags: ['Sharing'],
        summary: `${action} partner access (Direct)`,
        description,
        headers: directHeaders,
        body: changeBody,
        response: { 200: changeResult, '4xx': errorBody, '5xx': errorBody },
      },
      handler: async (request) => change(request, services, await directCaller(request, services), action),
    });
  }

  const listDescription =
    "The revocations the caller's organisation has made, filtered by envelope or partner. The server stores no envelopes, so it cannot list the grants inside one: they are in the envelope header (docs/envelope.md).";
  app.get('/v1/permissions', {
    config: { audit: 'permissions.list' },
    schema: {
      tags: ['Sharing'],
      summary: 'List revocations (Managed)',
      description: listDescription,
      headers: managedHeaders,
      querystring: listQuery,
      response: { 200: managed(listResult), '4xx': managedError, '5xx': managedError },
    },
    handler: async (request) => ({ statusCode: 200, body: await list(request, services, await managedCaller(request, services)) }),
  });
  app.get('/permissions', {
    config: { audit: 'permissions.list' },
    schema: {
      tags: ['Sharing'],
      summary: 'List revocations (Direct)',
      description: listDescription,
      headers: directHeaders,
      querystring: listQuery,
      response: { 200: listResult, '4xx': errorBody, '5xx': errorBody },
    },
    handler: async (request) => list(request, services, await directCaller(request, services)),
  });
}

async function change(request: FastifyRequest, services: HttpServices, caller: Caller, action: 'revoke' | 'restore') {
  await services.limiter.take(caller.userId);
  const body = request.body as ChangeBody;
  const ctx = request.audit;
  if (ctx) {
    ctx.envelopeId = body.envelope_id;
    ctx.envelopeOwnerId = caller.orgId;
    ctx.partnerIds = [body.partner_id];
  }
  const actor: RevocationActor = {
    orgId: caller.orgId,
    userId: caller.userId,
    credentialId: caller.credentialId,
    requestId: request.id,
    via: ctx?.via ?? 'direct',
    clientAddress: request.ip ?? null,
    httpStatus: 200,
  };
  const revocations = services.sharing.revocations;
  const result =
    action === 'revoke'
      ? await revocations.revoke(actor, body.partner_id, body.envelope_id ?? null)
      : await revocations.restore(actor, body.partner_id, body.envelope_id ?? null);
  // Its audit record committed together with the change.
  if (ctx) ctx.recorded = true;
  return result;
}

async function list(request: FastifyRequest, services: HttpServices, caller: Caller) {
  await services.limiter.take(caller.userId);
  const query = request.query as ListQuery;
  if (request.audit) {
    request.audit.envelopeId = query.envelope_id;
    request.audit.envelopeOwnerId = caller.orgId;
    if (query.partner_id !== undefined) request.audit.partnerIds = [query.partner_id];
  }
  const limit = Math.min(MAX_LIMIT, Number(query.limit ?? 100));
  const page = await services.sharing.revocations.list(caller.orgId, {
    envelopeId: query.envelope_id,
    partnerId: query.partner_id,
    limit,
    cursor: query.cursor,
  });
  return { owner_org_id: caller.orgId, envelope_id: query.envelope_id ?? null, revocations: page.revocations, next_cursor: page.nextCursor };
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AUDIT_OPERATIONS } from '../../audit/record.js';
import { validationError } from '../../common/service-error.js';
import type { Caller } from '../../core/operations.js';
import { directHeaders, errorBody, managed, managedError, managedHeaders } from '../schemas.js';
import type { HttpServices } from '../services.js';
import { directCaller, managedCaller } from './callers.js';

/**
 * `GET /v1/audit` (Managed) and `GET /audit` (Direct): the caller organisation's own audit chain —
 * its own records, and partners' opens of its envelopes — newest first, with an opaque cursor and filters. Reading the log is itself
 * recorded (`audit.list`).
 */

const nullableString = { type: ['string', 'null'] } as const;

export const auditRecordSchema = {
  type: 'object',
  required: [
    'chain_id',
    'seq',
    'time',
    'request_id',
    'org_id',
    'user_id',
    'credential_id',
    'operation',
    'via',
    'envelope_id',
    'envelope_owner_id',
    'partner_ids',
    'outcome',
    'error_code',
    'http_status',
    'client_address',
    'hash',
  ],
  properties: {
    chain_id: { type: 'string', description: 'The organisation id (each organisation has its own hash chain)' },
    seq: { type: 'integer', description: 'Position in the chain, from 1' },
    time: { type: 'string', description: 'ISO 8601, milliseconds, UTC' },
    request_id: nullableString,
    org_id: {
      ...nullableString,
      description: "The organisation that acted: the chain's own, or a partner that opened (or tried to open) one of its envelopes",
    },
    user_id: nullableString,
    credential_id: { ...nullableString, description: 'Id of the partner credential set used (never a secret)' },
    operation: { type: 'string', enum: [...AUDIT_OPERATIONS] },
    via: { type: 'string', enum: ['managed', 'direct', 'cli'] },
    envelope_id: nullableString,
    envelope_owner_id: { ...nullableString, description: 'Organisation that owns the envelope (another one when the caller opened it as a partner)' },
    partner_ids: {
      type: 'array',
      items: { type: 'string' },
      description: 'Partners the operation concerns: granted on seal, revoked/restored, or the caller itself when it opened as a partner',
    },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    error_code: nullableString,
    http_status: { type: ['integer', 'null'] },
    client_address: nullableString,
    hash: { type: 'string', description: 'SHA-256(previous hash ‖ JCS(record without hash)), hex (docs/audit.md)' },
  },
} as const;

const query = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: { type: 'string', enum: [...AUDIT_OPERATIONS] },
    envelope_id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    from: { type: 'string', format: 'date-time', description: 'Records at or after this instant' },
    to: { type: 'string', format: 'date-time', description: 'Records before this instant' },
    limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: '1–500, default 50' },
    cursor: { type: 'string', maxLength: 128, description: 'next_cursor of the previous page' },
  },
} as const;

const page = {
  type: 'object',
  required: ['records', 'next_cursor'],
  properties: {
    records: { type: 'array', items: auditRecordSchema },
    next_cursor: { ...nullableString, description: 'Pass as cursor for the next (older) page; null on the last page' },
  },
} as const;

interface AuditQueryString {
  operation?: string;
  envelope_id?: string;
  outcome?: 'success' | 'failure';
  from?: string;
  to?: string;
  limit?: string;
  cursor?: string;
}

const MAX_LIMIT = 500;

export async function auditRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  const description = "The caller organisation's audit records, newest first. Filters: operation, envelope_id, outcome, from (inclusive), to (exclusive).";
  app.get('/v1/audit', {
    config: { audit: 'audit.list' },
    schema: {
      tags: ['Audit'],
      summary: 'Audit log (Managed)',
      description,
      headers: managedHeaders,
      querystring: query,
      response: { 200: managed(page), '4xx': managedError, '5xx': managedError },
    },
    handler: async (request) => ({ statusCode: 200, body: await list(request, services, await managedCaller(request, services)) }),
  });
  app.get('/audit', {
    config: { audit: 'audit.list' },
    schema: {
      tags: ['Audit'],
      summary: 'Audit log (Direct)',
      description,
      headers: directHeaders,
      querystring: query,
      response: { 200: page, '4xx': errorBody, '5xx': errorBody },
    },
    handler: async (request) => list(request, services, await directCaller(request, services)),
  });
}

async function list(request: FastifyRequest, services: HttpServices, caller: Caller) {
  await services.limiter.take(caller.userId);
  const q = request.query as AuditQueryString;
  const from = q.from === undefined ? undefined : Date.parse(q.from);
  const to = q.to === undefined ? undefined : Date.parse(q.to);
  if (Number.isNaN(from) || Number.isNaN(to)) throw validationError('from and to must be ISO 8601 instants');
  const result = await services.sharing.auditLog.list(caller.orgId, {
    operation: q.operation,
    envelopeId: q.envelope_id,
    outcome: q.outcome,
    from,
    to,
    limit: Math.min(MAX_LIMIT, Number(q.limit ?? 50)),
    cursor: q.cursor,
  });
  return { records: result.records, next_cursor: result.nextCursor };
}

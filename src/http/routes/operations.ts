import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { JsonResult } from '../../core/crypto-tasks.js';
import type { Caller, OperationTrace, Operations, SealRequest } from '../../core/operations.js';
import type { JsonRoom } from '../../core/results.js';
import { DIRECT_FRAME, MANAGED_FRAME, sendResult, type JsonFrame } from '../answers.js';
import { batchItems, checkBatchLimits, performBatch, sendBatch, type Operation } from './batch-input.js';
import { validationError } from '../../common/service-error.js';
import { directCaller, managedCaller } from './callers.js';
import {
  decryptResult,
  decryptVerifyResult,
  directHeaders,
  errorBody,
  managed,
  managedError,
  managedHeaders,
  openBody,
  sealBody,
  sealResult,
  singleOrBatch,
} from '../schemas.js';
import type { HttpServices } from '../services.js';
import { installJsonBodyParser } from '../json-body.js';

/**
 * The four operations on both paths. Managed (`/v1/*`) follows the hosted flow: log in to the
 * identity pool with username/password, then call the core with the bearer token, the partner
 * credentials, the data and the requested actions, and wrap the result in {statusCode, body}.
 * Direct (`/*`) takes the bearer token itself and answers plain JSON.
 *
 * The caller is authenticated before the body is read (src/http/authentication.ts). Every call,
 * whatever its outcome, leaves one audit record (src/http/audit-hooks.ts), except a refusal for
 * capacity (src/http/admission.ts); a `batch_input` (src/http/routes/batch-input.ts) leaves one per item.
 */

interface WireSealBody {
  data: string;
  permissions?: { partner_id: string; permissions: string[]; expires_at?: string }[];
  requested_actions?: string[];
}
interface WireOpenBody {
  encrypted_data: string;
  requested_actions?: string[];
}

const REQUIRED_ACTIONS: Record<Operation, readonly string[]> = {
  encrypt: ['e'],
  'sign-encrypt': ['e', 's'],
  decrypt: ['d'],
  'decrypt-verify': ['d', 'v'],
};

const DESCRIPTIONS: Record<Operation, string> = {
  encrypt: 'Encrypt data to the caller organisation (recipient-bound, no signature). Pairs with decrypt.',
  'sign-encrypt': "Sign the data with the organisation's composite ML-DSA-65+Ed25519 key, then encrypt (X-Wing + AES-256-GCM). Pairs with decrypt-verify.",
  decrypt: 'Decrypt an envelope made by encrypt or sign-encrypt.',
  'decrypt-verify': 'Decrypt a sign-encrypt envelope and verify its signature.',
};

export async function operationRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  installJsonBodyParser(app);
  for (const op of Object.keys(REQUIRED_ACTIONS) as Operation[]) {
    const sealing = op === 'encrypt' || op === 'sign-encrypt';
    const single = op === 'decrypt-verify' ? decryptVerifyResult : sealing ? sealResult : decryptResult;
    const result = singleOrBatch(single, sealing ? ITEM_ERROR_EXAMPLE.seal : ITEM_ERROR_EXAMPLE.open);
    const body = sealing ? sealBody : openBody;

    app.post(`/v1/${op}`, {
      config: { audit: op, admission: true, authenticate: 'managed' },
      schema: {
        tags: ['Managed API'],
        summary: `${op} (Managed)`,
        description: `${DESCRIPTIONS[op]} Credentials travel in five headers; the response is wrapped as {statusCode, body}.`,
        headers: managedHeaders,
        body,
        response: { 200: managed(result), '4xx': managedError, '5xx': managedError },
      },
      handler: async (request, reply) => answer(services, op, await managedCaller(request, services), request, reply, MANAGED_FRAME),
    });

    app.post(`/${op}`, {
      config: { audit: op, admission: true, authenticate: 'direct' },
      schema: {
        tags: ['Direct API'],
        summary: `${op} (Direct)`,
        description: `${DESCRIPTIONS[op]} Authenticate with Authorization: Bearer <IdToken> from the identity pool plus the partner headers.`,
        headers: directHeaders,
        body,
        response: { 200: result, '4xx': errorBody, '5xx': errorBody },
      },
      handler: async (request, reply) => answer(services, op, await directCaller(request, services), request, reply, DIRECT_FRAME),
    });
  }
}

const ITEM_ERROR_EXAMPLE = {
  seal: { code: 'VALIDATION_ERROR', message: 'permissions[0]: unknown partner "partner-456"' },
  open: { code: 'ENVELOPE_MALFORMED', message: 'envelope is malformed: truncated KEM ciphertext' },
} as const;

async function answer(
  services: HttpServices,
  op: Operation,
  caller: Caller,
  request: FastifyRequest,
  reply: FastifyReply,
  frame: JsonFrame,
): Promise<FastifyReply> {
  const body = request.body as Record<string, unknown>;
  checkRequestedActions(op, body.requested_actions as string[] | undefined);
  const items = batchItems(op, body);
  if (items === undefined) return sendResult(reply, await perform(services, op, caller, body, request.audit ?? {}, frame.room), frame);
  checkBatchLimits(services, items);
  // Every item costs a token: a batch is as many operations as a client could send one by one.
  await services.limiter.take(caller.userId, items.length);
  return sendBatch(reply, await performBatch(services, op, caller, items, request), frame);
}

async function perform(services: HttpServices, op: Operation, caller: Caller, body: unknown, trace: OperationTrace, room: JsonRoom): Promise<JsonResult> {
  await services.limiter.take(caller.userId);
  const ops: Operations = services.operations;
  switch (op) {
    case 'encrypt':
      return ops.encrypt(caller, await sealRequest(services, caller, body as WireSealBody, trace), room, trace);
    case 'sign-encrypt':
      return ops.signEncrypt(caller, await sealRequest(services, caller, body as WireSealBody, trace), room, trace);
    case 'decrypt':
      return ops.decrypt(caller, (body as WireOpenBody).encrypted_data, room, trace);
    case 'decrypt-verify':
      return ops.decryptVerify(caller, (body as WireOpenBody).encrypted_data, room, trace);
  }
}

/** sign-encrypt needs exactly {s, e} in any order, encrypt exactly {e}; anything else is a 400. */
function checkRequestedActions(op: Operation, actions: string[] | undefined): void {
  if (actions === undefined) return;
  const required = REQUIRED_ACTIONS[op];
  if (actions.length !== required.length || !required.every((a) => actions.includes(a))) {
    throw validationError(`requested_actions for ${op} must be ${JSON.stringify(required)} (any order)`, { requested_actions: actions });
  }
}

async function sealRequest(services: HttpServices, caller: Caller, body: WireSealBody, trace: OperationTrace): Promise<SealRequest> {
  trace.envelopeOwnerId = caller.orgId;
  trace.partnerIds = (body.permissions ?? []).map((p) => p.partner_id);
  const permissions = await services.permissions.validate(caller, body.permissions ?? []);
  return { data: body.data, permissions };
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEvent, AuditOperation, AuditVia } from '../audit/record.js';
import type { OperationTrace } from '../core/operations.js';
import { isManagedRequest, toWireError, wireError } from './error-mapping.js';
import type { SharingHttpServices } from './sharing.js';

/**
 * One audit record per audited request, success or failure, on both paths. A route opts in with
 * `config: { audit: '<operation>' }`; handlers fill in what they learn (caller, envelope, partners)
 * on `request.audit`. The record is written in `onSend`, after the outcome is known and before a
 * byte of the response leaves: the response waits for the record to be durable (group commit), and
 * a 2xx whose record cannot be written becomes a 503 — no data, no envelope, no plaintext.
 *
 * Any route that performs an operation must declare `config.audit`.
 *
 * A `batch_input` answered 200 leaves one record per item instead (`batchItems`: its envelope,
 * partners, and its error code when it failed), all written together; a batch refused as a whole
 * keeps the one record of the request.
 *
 * An open of another organisation's envelope (decrypt, decrypt-verify — allowed or refused) is
 * recorded twice, in one transaction: in the caller's chain and in the owner's, so an owner sees who
 * (organisation, user) opened or tried to open its envelopes, when, and with what outcome.
 */

export interface AuditContext extends OperationTrace {
  readonly operation: AuditOperation;
  readonly via: AuditVia;
  orgId?: string | undefined;
  userId?: string | undefined;
  credentialId?: string | undefined;
  errorCode?: string | undefined;
  /** Set when the record was already written with the state change (revoke/restore). */
  recorded: boolean;
  /** A batch answered 200: one record per item, in order, instead of the request's. */
  batchItems?: readonly AuditItem[] | undefined;
}

/** What one item of a batch concerned, and the code it failed with (none: it succeeded). */
export interface AuditItem extends OperationTrace {
  readonly errorCode?: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    audit?: AuditOperation;
  }
  interface FastifyRequest {
    audit: AuditContext | null;
  }
}

export function installAuditHooks(app: FastifyInstance, sharing: SharingHttpServices): void {
  app.decorateRequest('audit', null);

  app.addHook('onRequest', async (request) => {
    const operation = request.routeOptions.config?.audit;
    if (operation) request.audit = { operation, via: isManagedRequest(request) ? 'managed' : 'direct', recorded: false };
  });

  app.addHook('onError', async (request, _reply, error) => {
    if (request.audit) request.audit.errorCode = toWireError(error).code;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const ctx = request.audit;
    if (!ctx || ctx.recorded) return payload;
    ctx.recorded = true;
    const status = reply.statusCode;
    const ok = status < 400;
    try {
      const at = sharing.now();
      const event = (item: AuditItem, errorCode: string | null): AuditEvent => ({
        at,
        requestId: request.id,
        orgId: ctx.orgId ?? null,
        userId: ctx.userId ?? null,
        credentialId: ctx.credentialId ?? null,
        operation: ctx.operation,
        via: ctx.via,
        envelopeId: item.envelopeId ?? null,
        envelopeOwnerId: item.envelopeOwnerId ?? null,
        partnerIds: item.partnerIds ?? [],
        outcome: errorCode === null ? 'success' : 'failure',
        errorCode,
        httpStatus: status,
        clientAddress: request.ip ?? null,
      });
      const events =
        ok && ctx.batchItems
          ? ctx.batchItems.map((item) => event(item, item.errorCode ?? null))
          : [event(ctx, ok ? null : (ctx.errorCode ?? `HTTP_${status}`))];
      // The items of a batch mostly name the same few owners: each is looked up once.
      const owners = new Map<string, Promise<boolean>>();
      const organisationExists = (orgId: string): Promise<boolean> => {
        let known = owners.get(orgId);
        if (!known) owners.set(orgId, (known = sharing.organisationExists(orgId)));
        return known;
      };
      await sharing.audit.appendAll((await Promise.all(events.map((e) => withOwnerCopy(e, organisationExists)))).flat());
      return payload;
    } catch (error) {
      request.log.error({ err: error, code: 'AUDIT_UNAVAILABLE', operation: ctx.operation }, 'audit record could not be written');
      if (!ok) return payload;
      const { status, code, message, retryAfterSeconds } = wireError('AUDIT_UNAVAILABLE');
      void reply.code(status).header('retry-after', String(retryAfterSeconds)).header('content-type', 'application/json; charset=utf-8');
      const wire = { code, message };
      return JSON.stringify(isManagedRequest(request) ? { statusCode: status, body: { error: wire } } : wire);
    }
  });
}

const OPENS: ReadonlySet<AuditOperation> = new Set(['decrypt', 'decrypt-verify']);

/**
 * The event, plus the owner's copy when an authenticated organisation opened (or tried to open)
 * another organisation's envelope. The header naming the owner is not authenticated before the
 * open, and anyone can write one: an owner id that is no organisation here gets no copy (and no chain).
 */
async function withOwnerCopy(event: AuditEvent, organisationExists: (orgId: string) => Promise<boolean>): Promise<AuditEvent[]> {
  const owner = event.envelopeOwnerId;
  if (!OPENS.has(event.operation) || event.orgId === null || owner === null || owner === event.orgId) return [event];
  if (!(await organisationExists(owner))) return [event];
  // Who, when, outcome — not the partner's credential id or network address, which are the partner's own business.
  return [event, { ...event, chainId: owner, credentialId: null, clientAddress: null }];
}

/** Records what the handler has learnt about the caller so far (a later failure keeps it). */
export function noteCaller(request: FastifyRequest, who: { orgId?: string; userId?: string; credentialId?: string }): void {
  const ctx = request.audit;
  if (!ctx) return;
  if (who.orgId !== undefined) ctx.orgId = who.orgId;
  if (who.userId !== undefined) ctx.userId = who.userId;
  if (who.credentialId !== undefined) ctx.credentialId = who.credentialId;
}

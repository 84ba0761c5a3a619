import type { Kysely } from 'kysely';
import { appendRecords, writeTransaction } from '../audit/chain-store.js';
import type { AuditOperation, AuditVia } from '../audit/record.js';
import { ServiceError, validationError } from '../common/service-error.js';
import type { Database } from '../ports/store-schema.js';
import { envelopeNotFound, RevocationStateUnavailableError, SharingChangeNotCommittedError } from './errors.js';

/**
 * Revocations: the owner organisation takes a partner's access away — to one of its envelopes (by
 * envelope id) or to all of them — and gives it back, without touching any ciphertext. Rows are keyed
 * by (owner, partner, envelope id | `*`), so an owner can only ever affect its own envelopes.
 *
 * The service stores no envelopes, but the caller's audit chain holds the id of every envelope it
 * sealed: a change naming an envelope id the caller did not seal would be a row nobody's open ever
 * consults (a partner "revoking" the owner on the owner's envelope), so it is refused with 404
 * `ENVELOPE_NOT_FOUND` — 404 rather than 403, so the answer does not confirm that the envelope exists.
 *
 * Every change commits in one transaction with its audit record. Reads on the partner path are not
 * cached: a revocation applies to the very next open in every process that shares the store.
 */

export const ALL_ENVELOPES = '*';
export const ENVELOPE_ID_PATTERN = /^[0-9a-f]{32}$/;

export type RevocationScope = 'envelope' | 'all_envelopes';

export interface RevocationEntry {
  readonly partner_id: string;
  readonly envelope_id: string | null;
  readonly scope: RevocationScope;
  readonly revoked_at: string;
  readonly revoked_by: string | null;
}

export interface RevocationChange {
  readonly owner_org_id: string;
  readonly partner_id: string;
  readonly envelope_id: string | null;
  readonly scope: RevocationScope;
  /** Whether this rule (this envelope, or all envelopes) is in force after the call. */
  readonly revoked: boolean;
  /** False when the call found the state already as asked (both calls are idempotent). */
  readonly changed: boolean;
  readonly revoked_at: string | null;
  /** Whether the partner is now refused for this scope by any rule (e.g. an envelope restored while all envelopes stay revoked). */
  readonly access_revoked: boolean;
}

/** Who is changing the state, for the audit record written in the same transaction. */
export interface RevocationActor {
  readonly orgId: string;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly requestId: string | null;
  readonly via: AuditVia;
  readonly clientAddress: string | null;
  /** The HTTP status the request will answer (null for the CLI). */
  readonly httpStatus: number | null;
}

export interface RevocationQuery {
  readonly envelopeId?: string | undefined;
  readonly partnerId?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

const CURSOR_PREFIX = 'r1.';

export class Revocations {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /** One indexed read. Any failure is `RevocationStateUnavailableError`: fail closed, never "not revoked". */
  async isRevoked(ownerOrgId: string, partnerId: string, envelopeId: string): Promise<boolean> {
    try {
      const row = await this.db
        .selectFrom('revocations')
        .select('envelope_id')
        .where('owner_org_id', '=', ownerOrgId)
        .where('partner_id', '=', partnerId)
        .where('envelope_id', 'in', [envelopeId, ALL_ENVELOPES])
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    } catch (cause) {
      throw new RevocationStateUnavailableError({ cause });
    }
  }

  revoke(actor: RevocationActor, partnerId: string, envelopeId: string | null): Promise<RevocationChange> {
    return this.change('permissions.revoke', actor, partnerId, envelopeId);
  }

  restore(actor: RevocationActor, partnerId: string, envelopeId: string | null): Promise<RevocationChange> {
    return this.change('permissions.restore', actor, partnerId, envelopeId);
  }

  /** The owner's revocations (those affecting `envelopeId` when given: its own and the partner-wide ones). */
  async list(ownerOrgId: string, query: RevocationQuery): Promise<{ revocations: RevocationEntry[]; nextCursor: string | null }> {
    let q = this.db.selectFrom('revocations').selectAll().where('owner_org_id', '=', ownerOrgId);
    if (query.envelopeId !== undefined) q = q.where('envelope_id', 'in', [query.envelopeId, ALL_ENVELOPES]);
    if (query.partnerId !== undefined) q = q.where('partner_id', '=', query.partnerId);
    if (query.cursor !== undefined) {
      const [partner, envelope] = decodeCursor(query.cursor);
      q = q.where((eb) => eb.or([eb('partner_id', '>', partner), eb.and([eb('partner_id', '=', partner), eb('envelope_id', '>', envelope)])]));
    }
    const rows = await q
      .orderBy('partner_id')
      .orderBy('envelope_id')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      revocations: page.map((r) => ({
        partner_id: r.partner_id,
        envelope_id: r.envelope_id === ALL_ENVELOPES ? null : r.envelope_id,
        scope: r.envelope_id === ALL_ENVELOPES ? 'all_envelopes' : 'envelope',
        revoked_at: new Date(Number(r.revoked_at)).toISOString(),
        revoked_by: r.revoked_by,
      })),
      nextCursor: rows.length > query.limit && last ? encodeCursor(last.partner_id, last.envelope_id) : null,
    };
  }

  private async change(operation: AuditOperation, actor: RevocationActor, partnerId: string, envelopeId: string | null): Promise<RevocationChange> {
    if (partnerId === actor.orgId) throw validationError('partner_id: an organisation always has access to its own envelopes and cannot revoke it');
    if (envelopeId !== null && !ENVELOPE_ID_PATTERN.test(envelopeId)) throw validationError('envelope_id must be 32 lowercase hex characters');
    const key = envelopeId ?? ALL_ENVELOPES;
    const at = this.now();
    try {
      return await this.commit(operation, actor, partnerId, envelopeId, key, at);
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      // The change and its audit record commit together or not at all: nothing was changed.
      throw new SharingChangeNotCommittedError({ cause: error });
    }
  }

  private commit(
    operation: AuditOperation,
    actor: RevocationActor,
    partnerId: string,
    envelopeId: string | null,
    key: string,
    at: number,
  ): Promise<RevocationChange> {
    return writeTransaction(this.db, async (trx) => {
      const partner = await trx.selectFrom('organisations').select('id').where('id', '=', partnerId).executeTakeFirst();
      if (!partner) throw validationError(`partner_id: unknown partner "${partnerId}"`);
      if (envelopeId !== null && !(await sealedBy(trx, actor.orgId, envelopeId))) throw envelopeNotFound();
      let changed: boolean;
      if (operation === 'permissions.revoke') {
        const result = await trx
          .insertInto('revocations')
          .values({ owner_org_id: actor.orgId, partner_id: partnerId, envelope_id: key, revoked_at: at, revoked_by: actor.userId ?? actor.via })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        changed = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
      } else {
        const result = await trx
          .deleteFrom('revocations')
          .where('owner_org_id', '=', actor.orgId)
          .where('partner_id', '=', partnerId)
          .where('envelope_id', '=', key)
          .executeTakeFirst();
        changed = Number(result.numDeletedRows) > 0;
      }
      const rules = await trx
        .selectFrom('revocations')
        .select(['envelope_id', 'revoked_at'])
        .where('owner_org_id', '=', actor.orgId)
        .where('partner_id', '=', partnerId)
        .where('envelope_id', 'in', [key, ALL_ENVELOPES])
        .execute();
      const own = rules.find((r) => r.envelope_id === key);
      await appendRecords(trx, [
        {
          at,
          requestId: actor.requestId,
          orgId: actor.orgId,
          userId: actor.userId,
          credentialId: actor.credentialId,
          operation,
          via: actor.via,
          envelopeId,
          envelopeOwnerId: actor.orgId,
          partnerIds: [partnerId],
          outcome: 'success',
          errorCode: null,
          httpStatus: actor.httpStatus,
          clientAddress: actor.clientAddress,
        },
      ]);
      return {
        owner_org_id: actor.orgId,
        partner_id: partnerId,
        envelope_id: envelopeId,
        scope: envelopeId === null ? 'all_envelopes' : 'envelope',
        revoked: own !== undefined,
        changed,
        revoked_at: own ? new Date(Number(own.revoked_at)).toISOString() : null,
        access_revoked: rules.length > 0,
      } satisfies RevocationChange;
    });
  }
}

/** Whether `orgId` sealed `envelopeId` (a successful encrypt/sign-encrypt in its own chain; indexed by chain and envelope id). */
async function sealedBy(trx: Kysely<Database>, orgId: string, envelopeId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('audit_records')
    .select('seq')
    .where('chain_id', '=', orgId)
    .where('envelope_id', '=', envelopeId)
    .where('operation', 'in', ['encrypt', 'sign-encrypt'])
    .where('outcome', '=', 'success')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

function encodeCursor(partnerId: string, envelopeKey: string): string {
  return Buffer.from(`${CURSOR_PREFIX}${JSON.stringify([partnerId, envelopeKey])}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    if (text.startsWith(CURSOR_PREFIX)) {
      const value: unknown = JSON.parse(text.slice(CURSOR_PREFIX.length));
      if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
    }
  } catch {
    // fall through
  }
  throw new ServiceError('INVALID_CURSOR');
}

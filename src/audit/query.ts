import type { Kysely } from 'kysely';
import { ServiceError } from '../common/service-error.js';
import type { Database } from '../ports/store-schema.js';
import { fromRow, type AuditRecord } from './record.js';

/** One organisation's records, newest first, with an opaque keyset cursor (stable while records are appended). */

export interface AuditQuery {
  readonly operation?: string | undefined;
  readonly envelopeId?: string | undefined;
  readonly outcome?: 'success' | 'failure' | undefined;
  /** Inclusive lower bound, ms. */
  readonly from?: number | undefined;
  /** Exclusive upper bound, ms. */
  readonly to?: number | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface AuditPage {
  readonly records: AuditRecord[];
  readonly nextCursor: string | null;
}

const CURSOR_PREFIX = 'a1.';

export function encodeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`, 'utf8').toString('base64url');
}

/** The seq the next page starts below; a cursor that is not ours is a 400. */
export function decodeCursor(cursor: string): number {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const seq = text.startsWith(CURSOR_PREFIX) ? Number(text.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ServiceError('INVALID_CURSOR');
  return seq;
}

export async function listAuditRecords(db: Kysely<Database>, chainId: string, query: AuditQuery): Promise<AuditPage> {
  let q = db.selectFrom('audit_records').selectAll().where('chain_id', '=', chainId);
  if (query.cursor !== undefined) q = q.where('seq', '<', decodeCursor(query.cursor));
  if (query.operation !== undefined) q = q.where('operation', '=', query.operation);
  if (query.envelopeId !== undefined) q = q.where('envelope_id', '=', query.envelopeId);
  if (query.outcome !== undefined) q = q.where('outcome', '=', query.outcome);
  if (query.from !== undefined) q = q.where('at', '>=', query.from);
  if (query.to !== undefined) q = q.where('at', '<', query.to);
  const rows = await q
    .orderBy('seq', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit).map(fromRow);
  const last = page[page.length - 1];
  return { records: page, nextCursor: rows.length > query.limit && last ? encodeCursor(last.seq) : null };
}

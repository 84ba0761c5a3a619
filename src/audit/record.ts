import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { AuditRecordsTable } from '../ports/store-schema.js';
import { canonicalJson } from './canonical-json.js';

/**
 * One audit record and its place in a hash chain (docs/audit.md). Every organisation has its own
 * chain (chain id = org id), so an organisation's export verifies on its own; records without an
 * organisation (e.g. a failed login of an unknown user) go to the `_service` chain.
 *
 *   hash(n) = SHA-256( hash(n-1) as 32 bytes || UTF-8( JCS(record n without "hash") ) ),  hash(0) = 32 zero bytes
 *
 * Records never hold secrets, tokens or payload data: only identifiers, outcomes and codes.
 */

export const SERVICE_CHAIN = '_service';
export const GENESIS_HASH = '0'.repeat(64);

export type AuditOutcome = 'success' | 'failure';
export type AuditVia = 'managed' | 'direct' | 'cli';

/** Operations that write records (the four operations, revocation changes, the authenticated reads and InitiateAuth logins). */
export const AUDIT_OPERATIONS = [
  'encrypt',
  'sign-encrypt',
  'decrypt',
  'decrypt-verify',
  'permissions.revoke',
  'permissions.restore',
  'permissions.list',
  'audit.list',
  'login',
  'login.refresh',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** What happened, as the code that saw it reports it; the chain position and hash are added on append. */
export interface AuditEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly requestId: string | null;
  readonly orgId: string | null;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly operation: AuditOperation;
  readonly via: AuditVia;
  readonly envelopeId: string | null;
  /** The organisation that owns the envelope (differs from orgId when a partner opens it). */
  readonly envelopeOwnerId: string | null;
  /** Partners whose access the operation concerns: granted on seal, revoked/restored, or the opener acting as partner. */
  readonly partnerIds: readonly string[];
  readonly outcome: AuditOutcome;
  readonly errorCode: string | null;
  readonly httpStatus: number | null;
  readonly clientAddress: string | null;
  /**
   * The chain the record goes to when it is not the acting organisation's: the owner's copy of a
   * partner's open of its envelope. Default: `orgId`'s chain (or `_service`).
   */
  readonly chainId?: string | undefined;
}

/** The record as published (API, export) and hashed: snake_case, every field present. */
export interface AuditRecord {
  readonly chain_id: string;
  readonly seq: number;
  readonly time: string;
  readonly request_id: string | null;
  readonly org_id: string | null;
  readonly user_id: string | null;
  readonly credential_id: string | null;
  readonly operation: string;
  readonly via: string;
  readonly envelope_id: string | null;
  readonly envelope_owner_id: string | null;
  readonly partner_ids: readonly string[];
  readonly outcome: string;
  readonly error_code: string | null;
  readonly http_status: number | null;
  readonly client_address: string | null;
  readonly hash: string;
}

export type UnhashedRecord = Omit<AuditRecord, 'hash'>;

export function chainOf(event: Pick<AuditEvent, 'orgId' | 'chainId'>): string {
  return event.chainId ?? event.orgId ?? SERVICE_CHAIN;
}

export function unhashedRecord(event: AuditEvent, chainId: string, seq: number): UnhashedRecord {
  return {
    chain_id: chainId,
    seq,
    time: new Date(event.at).toISOString(),
    request_id: event.requestId,
    org_id: event.orgId,
    user_id: event.userId,
    credential_id: event.credentialId,
    operation: event.operation,
    via: event.via,
    envelope_id: event.envelopeId,
    envelope_owner_id: event.envelopeOwnerId,
    partner_ids: [...event.partnerIds],
    outcome: event.outcome,
    error_code: event.errorCode,
    http_status: event.httpStatus,
    client_address: event.clientAddress,
  };
}

/** The hashed content of a record: every field except `hash`, whatever else the object carries. */
export function hashedFields(record: UnhashedRecord): UnhashedRecord {
  return {
    chain_id: record.chain_id,
    seq: record.seq,
    time: record.time,
    request_id: record.request_id,
    org_id: record.org_id,
    user_id: record.user_id,
    credential_id: record.credential_id,
    operation: record.operation,
    via: record.via,
    envelope_id: record.envelope_id,
    envelope_owner_id: record.envelope_owner_id,
    partner_ids: record.partner_ids,
    outcome: record.outcome,
    error_code: record.error_code,
    http_status: record.http_status,
    client_address: record.client_address,
  };
}

export function recordHash(prevHash: string, record: UnhashedRecord): string {
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(canonicalJson(hashedFields(record)), 'utf8')
    .digest('hex');
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/**
 * Places the events at the end of their chains, in order: sequence numbers and hashes. `headOf`
 * gives a chain's current head as stored (undefined for a new chain); the returned `heads` are the
 * chains' new heads. Pure — both appenders (Kysely in chain-store.ts, prepared statements in
 * chain-appender.ts) read the heads inside their write transaction and store what this returns.
 */
export function chainEvents(
  events: readonly AuditEvent[],
  headOf: (chainId: string) => ChainHead | undefined,
): { records: AuditRecord[]; heads: Map<string, ChainHead> } {
  const heads = new Map<string, ChainHead>();
  const records = events.map((event) => {
    const chainId = chainOf(event);
    const head = heads.get(chainId) ?? headOf(chainId) ?? { seq: 0, hash: GENESIS_HASH };
    const unhashed = unhashedRecord(event, chainId, head.seq + 1);
    const record: AuditRecord = { ...unhashed, hash: recordHash(head.hash, unhashed) };
    heads.set(chainId, { seq: record.seq, hash: record.hash });
    return record;
  });
  return { records, heads };
}

export function toRow(record: AuditRecord, at: number): Selectable<AuditRecordsTable> {
  return {
    chain_id: record.chain_id,
    seq: record.seq,
    at,
    request_id: record.request_id,
    org_id: record.org_id,
    user_id: record.user_id,
    credential_id: record.credential_id,
    operation: record.operation,
    via: record.via,
    envelope_id: record.envelope_id,
    envelope_owner_id: record.envelope_owner_id,
    partner_ids: record.partner_ids.length ? record.partner_ids.join(',') : null,
    outcome: record.outcome,
    error_code: record.error_code,
    http_status: record.http_status,
    client_address: record.client_address,
    hash: record.hash,
  };
}

export function fromRow(row: Selectable<AuditRecordsTable>): AuditRecord {
  return {
    chain_id: row.chain_id,
    seq: Number(row.seq),
    time: new Date(Number(row.at)).toISOString(),
    request_id: row.request_id,
    org_id: row.org_id,
    user_id: row.user_id,
    credential_id: row.credential_id,
    operation: row.operation,
    via: row.via,
    envelope_id: row.envelope_id,
    envelope_owner_id: row.envelope_owner_id,
    partner_ids: row.partner_ids ? row.partner_ids.split(',') : [],
    outcome: row.outcome,
    error_code: row.error_code,
    http_status: row.http_status === null ? null : Number(row.http_status),
    client_address: row.client_address,
    hash: row.hash,
  };
}

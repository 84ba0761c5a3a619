import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import { recordChange } from '../ports/change-log.js';
import { identityEvents } from '../ports/invalidation.js';
import { dbOf, inTransaction, type StoreHandle } from '../ports/store.js';
import { newId, randomBase62 } from '../common/ids.js';
import type { CredentialsTable } from '../ports/store-schema.js';
import { CredentialsNotFoundError, OrganisationNotFoundError, PartnerAuthError } from './errors.js';

/**
 * Partner credential sets (api_key, access_key, secret_key) of an organisation.
 *
 * The secret key is 256 random bits and is stored only as its SHA-256. A fast hash is enough here:
 * slow hashes exist to protect low-entropy human passwords from guessing, and 2^256 candidates
 * cannot be guessed at any speed. It also keeps the per-request check cheap.
 */

export interface NewCredentials {
  readonly id: string;
  readonly orgId: string;
  readonly apiKey: string;
  readonly accessKey: string;
  /** Shown once: only its hash is stored. */
  readonly secretKey: string;
}

export interface CredentialsInfo {
  readonly id: string;
  readonly orgId: string;
  readonly apiKey: string;
  readonly accessKey: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface PartnerCredentials {
  readonly apiKey: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface VerifiedPartner {
  readonly credentialId: string;
  readonly orgId: string;
}

/** No legitimate key is longer; longer input is refused before any work. */
const MAX_KEY_LENGTH = 256;
/** Compared against when the api_key is unknown, so that path does the same work. */
const DUMMY_HASH = sha256(`sk_${randomBytes(32).toString('base64url')}`);

export async function createCredentials(store: StoreHandle, orgId: string, now: number = Date.now()): Promise<NewCredentials> {
  const created: NewCredentials = {
    id: newId('cred'),
    orgId,
    apiKey: `pk_${randomBase62(24)}`,
    accessKey: `ak_${randomBase62(24)}`,
    secretKey: `sk_${randomBytes(32).toString('base64url')}`,
  };
  await inTransaction(store, async (trx) => {
    const org = await trx.selectFrom('organisations').select('id').where('id', '=', orgId).executeTakeFirst();
    if (!org) throw new OrganisationNotFoundError(orgId);
    await trx
      .insertInto('credentials')
      .values({
        id: created.id,
        org_id: orgId,
        api_key: created.apiKey,
        access_key: created.accessKey,
        secret_hash: sha256(created.secretKey),
        created_at: now,
        revoked_at: null,
      })
      .execute();
  });
  return created;
}

/** Every credential set of the organisation, revoked ones included; never a secret. */
export async function listCredentials(store: StoreHandle, orgId: string): Promise<CredentialsInfo[]> {
  const rows = await dbOf(store).selectFrom('credentials').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
  return rows.map(toInfo);
}

export async function getCredentials(store: StoreHandle, id: string): Promise<CredentialsInfo | undefined> {
  const row = await dbOf(store).selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toInfo(row);
}

/** Revokes for good (idempotent: a second call keeps the first revocation time). */
export async function revokeCredentials(store: StoreHandle, id: string, now: number = Date.now()): Promise<CredentialsInfo> {
  const info = await inTransaction(store, async (trx) => {
    await trx.updateTable('credentials').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    const info = await getCredentials(trx, id);
    if (info) await recordChange(trx, { type: 'credentials-revoked', credentialId: id }, now);
    return info;
  });
  if (!info) throw new CredentialsNotFoundError(id);
  identityEvents.emit({ type: 'credentials-revoked', credentialId: id });
  return info;
}

/**
 * The credential set and organisation for the three keys, or `PartnerAuthError` — the same error
 * for an unknown api_key, a wrong access_key, a wrong secret_key and revoked credentials.
 */
export async function verifyCredentials(store: StoreHandle, credentials: PartnerCredentials): Promise<VerifiedPartner> {
  const { apiKey, accessKey, secretKey } = credentials;
  if (!isKey(apiKey) || !isKey(accessKey) || !isKey(secretKey)) throw new PartnerAuthError();
  const row = await dbOf(store)
    .selectFrom('credentials')
    .select(['id', 'org_id', 'access_key', 'secret_hash', 'revoked_at'])
    .where('api_key', '=', apiKey)
    .executeTakeFirst();
  // Both comparisons always run, on equal-length digests, whatever the row says.
  const accessOk = timingSafeEqual(sha256(accessKey), sha256(row?.access_key ?? ''));
  const storedHash = row && row.secret_hash.byteLength === DUMMY_HASH.byteLength ? row.secret_hash : DUMMY_HASH;
  const secretOk = timingSafeEqual(sha256(secretKey), storedHash);
  if (!row || !accessOk || !secretOk || row.revoked_at !== null) throw new PartnerAuthError();
  return { credentialId: row.id, orgId: row.org_id };
}

function isKey(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH;
}

function sha256(text: string): Uint8Array {
  return createHash('sha256').update(text, 'utf8').digest();
}

function toInfo(row: Selectable<CredentialsTable>): CredentialsInfo {
  return {
    id: row.id,
    orgId: row.org_id,
    apiKey: row.api_key,
    accessKey: row.access_key,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

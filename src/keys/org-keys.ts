import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { COMPOSITE_MLDSA65_ED25519 } from '../crypto/composite-signature.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { X_WING } from '../crypto/x-wing.js';
import { inTransaction, type StoreHandle } from '../ports/store.js';
import type { Database, OrgKeysTable } from '../ports/store-schema.js';
import type { KeyEncryption } from '../ports/key-encryption.js';

/**
 * Versioned per-organisation key pairs: a composite ML-DSA-65+Ed25519 signing key and an X-Wing KEM
 * key. Secrets are the seeds (64 and 32 bytes), stored only wrapped under the master key with the key
 * id as associated data. Rotation adds a version; older versions stay to open older envelopes.
 */

export type KeyKind = 'signing' | 'kem';

export interface OrgKeyRecord {
  readonly id: string;
  readonly orgId: string;
  readonly kind: KeyKind;
  readonly version: number;
  readonly publicKey: Uint8Array;
  readonly wrappedSecret: Uint8Array;
  readonly createdAt: number;
}

export function keyIdFor(orgId: string, kind: KeyKind, version: number): string {
  return `${orgId}.${kind === 'signing' ? 'sig' : 'kem'}.v${version}`;
}

/**
 * Fresh seeds and public keys of both key pairs, not yet stored. Deriving them is the expensive part
 * (ML-DSA-65 key generation), so it happens before any transaction: the store's write lock is not
 * held meanwhile. The caller stores them with `storeOrgKeys` and then calls `wipeOrgKeyMaterial`.
 */
export interface OrgKeyMaterial {
  readonly signingSeed: Uint8Array;
  readonly signingPublicKey: Uint8Array;
  readonly kemSeed: Uint8Array;
  readonly kemPublicKey: Uint8Array;
}

export function newOrgKeyMaterial(providers: CryptoProviders): OrgKeyMaterial {
  const signingSeed = randomBytes(COMPOSITE_MLDSA65_ED25519.secretSeedLength);
  const kemSeed = randomBytes(X_WING.seedLength);
  return {
    signingSeed,
    signingPublicKey: providers.composite.expandSecret(signingSeed).publicKey,
    kemSeed,
    kemPublicKey: providers.xWing.publicKey(providers.xWing.expand(kemSeed)),
  };
}

export function wipeOrgKeyMaterial(material: OrgKeyMaterial): void {
  material.signingSeed.fill(0);
  material.kemSeed.fill(0);
}

/**
 * Stores `material` as the next version of both key pairs (version 1 for a new organisation), in the
 * caller's transaction when `store` is one. Only the cheap part runs here: reading the version and
 * wrapping the seeds under the master key, whose associated data is the key id and so the version.
 */
export async function storeOrgKeys(
  store: StoreHandle,
  keyEncryption: KeyEncryption,
  orgId: string,
  material: OrgKeyMaterial,
  now: number = Date.now(),
): Promise<{ signing: OrgKeyRecord; kem: OrgKeyRecord }> {
  return inTransaction(store, async (trx) => {
    const row = await trx
      .selectFrom('org_keys')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    const version = Number(row?.version ?? 0) + 1;
    const signingId = keyIdFor(orgId, 'signing', version);
    const kemId = keyIdFor(orgId, 'kem', version);
    const signing: OrgKeyRecord = {
      id: signingId,
      orgId,
      kind: 'signing',
      version,
      publicKey: material.signingPublicKey,
      wrappedSecret: keyEncryption.wrap(material.signingSeed, signingId),
      createdAt: now,
    };
    const kem: OrgKeyRecord = {
      id: kemId,
      orgId,
      kind: 'kem',
      version,
      publicKey: material.kemPublicKey,
      wrappedSecret: keyEncryption.wrap(material.kemSeed, kemId),
      createdAt: now,
    };
    await trx
      .insertInto('org_keys')
      .values(
        [signing, kem].map((r) => ({
          id: r.id,
          org_id: r.orgId,
          kind: r.kind,
          version: r.version,
          public_key: r.publicKey,
          wrapped_secret: r.wrappedSecret,
          created_at: r.createdAt,
        })),
      )
      .execute();
    return { signing, kem };
  });
}

/**
 * Generates and stores the next version of both key pairs (rotation): generation first, then one
 * transaction — the caller's when `store` is one.
 */
export async function generateOrgKeys(
  store: StoreHandle,
  providers: CryptoProviders,
  keyEncryption: KeyEncryption,
  orgId: string,
  now: number = Date.now(),
): Promise<{ signing: OrgKeyRecord; kem: OrgKeyRecord }> {
  const material = newOrgKeyMaterial(providers);
  try {
    return await storeOrgKeys(store, keyEncryption, orgId, material, now);
  } finally {
    wipeOrgKeyMaterial(material);
  }
}

export async function listOrgKeys(db: Kysely<Database>, orgId: string): Promise<OrgKeyRecord[]> {
  const rows = await db.selectFrom('org_keys').selectAll().where('org_id', '=', orgId).orderBy('version', 'desc').execute();
  return rows.map(toRecord);
}

/** An organisation's name and every version of its keys, or undefined when there is no such organisation. */
export interface PublishedOrgKeys {
  readonly orgId: string;
  readonly name: string;
  readonly keys: readonly OrgKeyRecord[];
}

export async function publishedOrgKeys(db: Kysely<Database>, orgId: string): Promise<PublishedOrgKeys | undefined> {
  const org = await db.selectFrom('organisations').select(['id', 'name']).where('id', '=', orgId).executeTakeFirst();
  if (!org) return undefined;
  return { orgId: org.id, name: org.name, keys: await listOrgKeys(db, orgId) };
}

export async function findOrgKey(db: Kysely<Database>, keyId: string): Promise<OrgKeyRecord | undefined> {
  const row = await db.selectFrom('org_keys').selectAll().where('id', '=', keyId).executeTakeFirst();
  return row && toRecord(row);
}

export async function activeOrgKey(db: Kysely<Database>, orgId: string, kind: KeyKind): Promise<OrgKeyRecord | undefined> {
  const row = await db
    .selectFrom('org_keys')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('kind', '=', kind)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toRecord(row);
}

function toRecord(row: Selectable<OrgKeysTable>): OrgKeyRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    kind: row.kind as KeyKind,
    version: Number(row.version),
    publicKey: new Uint8Array(row.public_key),
    wrappedSecret: new Uint8Array(row.wrapped_secret),
    createdAt: Number(row.created_at),
  };
}

import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { COMPOSITE_MLDSA65_ED25519 } from '../crypto/composite-signature.js';
import { wrapKey } from '../crypto/key-wrap.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { X_WING } from '../crypto/x-wing.js';
import type { Database, OrgKeysTable } from '../store/schema.js';

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

/** Generates the next version of both key pairs of an organisation (version 1 on creation). */
export async function generateOrgKeys(
  db: Kysely<Database>,
  providers: CryptoProviders,
  masterKey: Uint8Array,
  orgId: string,
  now: number = Date.now(),
): Promise<{ signing: OrgKeyRecord; kem: OrgKeyRecord }> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('org_keys')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    const version = Number(row?.version ?? 0) + 1;

    const signingSeed = randomBytes(COMPOSITE_MLDSA65_ED25519.secretSeedLength);
    const kemSeed = randomBytes(X_WING.seedLength);
    const signingId = keyIdFor(orgId, 'signing', version);
    const kemId = keyIdFor(orgId, 'kem', version);
    const records: OrgKeyRecord[] = [
      {
        id: signingId,
        orgId,
        kind: 'signing',
        version,
        publicKey: providers.composite.expandSecret(signingSeed).publicKey,
        wrappedSecret: wrapKey(masterKey, signingId, signingSeed),
        createdAt: now,
      },
      {
        id: kemId,
        orgId,
        kind: 'kem',
        version,
        publicKey: providers.xWing.publicKey(providers.xWing.expand(kemSeed)),
        wrappedSecret: wrapKey(masterKey, kemId, kemSeed),
        createdAt: now,
      },
    ];
    signingSeed.fill(0);
    kemSeed.fill(0);
    await trx
      .insertInto('org_keys')
      .values(
        records.map((r) => ({
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
    return { signing: records[0] as OrgKeyRecord, kem: records[1] as OrgKeyRecord };
  });
}

export async function listOrgKeys(db: Kysely<Database>, orgId: string): Promise<OrgKeyRecord[]> {
  const rows = await db.selectFrom('org_keys').selectAll().where('org_id', '=', orgId).orderBy('version', 'desc').execute();
  return rows.map(toRecord);
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

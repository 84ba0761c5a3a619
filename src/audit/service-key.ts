import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { COMPOSITE_MLDSA65_ED25519, type CompositeSigningKey, type CompositeVerifyingKey } from '../crypto/composite-signature.js';
import type { KeyEncryption } from '../ports/key-encryption.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { publicKeyEntries, type PublicKeyDocument } from '../keys/public-key-document.js';
import type { Database } from '../ports/store-schema.js';
import { SERVICE_CHAIN } from './record.js';

/**
 * The service's own composite ML-DSA-65+Ed25519 signing key, which signs audit checkpoints. Created
 * on first use, its seed stored wrapped under the master key (like organisation keys, with the key
 * id as associated data). Published at `GET /v1/keys/service`.
 */

export const CHECKPOINT_CONTEXT = 'pqseal-audit-checkpoint-v1';
export const SERVICE_KEY_NAME = 'pqseal service';

export interface ServiceKeyRecord {
  readonly id: string;
  readonly version: number;
  readonly publicKey: Uint8Array;
  readonly wrappedSecret: Uint8Array;
  readonly createdAt: number;
}

export function serviceKeyId(version: number): string {
  return `${SERVICE_CHAIN}.sig.v${version}`;
}

export class ServiceKeys {
  private signing: { keyId: string; key: CompositeSigningKey } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly providers: CryptoProviders,
    private readonly keyEncryption: KeyEncryption,
    private readonly now: () => number = Date.now,
  ) {}

  /** The newest key, created (version 1) if there is none yet; safe when two processes race. */
  async active(): Promise<ServiceKeyRecord> {
    const existing = await this.newest();
    if (existing) return existing;
    const seed = randomBytes(COMPOSITE_MLDSA65_ED25519.secretSeedLength);
    const id = serviceKeyId(1);
    try {
      await this.db
        .insertInto('service_keys')
        .values({
          id,
          kind: 'signing',
          version: 1,
          public_key: this.providers.composite.expandSecret(seed).publicKey,
          wrapped_secret: this.keyEncryption.wrap(seed, id),
          created_at: this.now(),
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } finally {
      seed.fill(0);
    }
    const created = await this.newest();
    if (!created) throw new Error('the service key could not be created');
    return created;
  }

  async list(): Promise<ServiceKeyRecord[]> {
    const rows = await this.db.selectFrom('service_keys').selectAll().orderBy('version', 'desc').execute();
    return rows.map(toRecord);
  }

  /** The expanded active signing key (expanded once per process). */
  async signer(): Promise<{ keyId: string; key: CompositeSigningKey }> {
    const active = await this.active();
    if (this.signing?.keyId !== active.id) {
      const seed = this.keyEncryption.unwrap(active.wrappedSecret, active.id);
      this.signing = { keyId: active.id, key: this.providers.composite.expandSecret(seed) };
      seed.fill(0);
    }
    return this.signing;
  }

  /** The published document (`GET /v1/keys/service`). */
  async document(): Promise<PublicKeyDocument> {
    await this.active();
    return serviceKeyDocument(await this.list());
  }

  async verifyingKeys(): Promise<Map<string, CompositeVerifyingKey>> {
    return new Map((await this.list()).map((k) => [k.id, this.providers.composite.parsePublic(k.publicKey)]));
  }

  private async newest(): Promise<ServiceKeyRecord | undefined> {
    const row = await this.db.selectFrom('service_keys').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row && toRecord(row);
  }
}

export function serviceKeyDocument(keys: readonly Pick<ServiceKeyRecord, 'id' | 'version' | 'publicKey' | 'createdAt'>[]): PublicKeyDocument {
  return {
    org_id: SERVICE_CHAIN,
    name: SERVICE_KEY_NAME,
    keys: publicKeyEntries(
      keys.map((k) => ({ id: k.id, kind: 'signing' as const, version: k.version, publicKey: k.publicKey, createdAt: k.createdAt })),
      { purpose: 'audit-checkpoint', context: CHECKPOINT_CONTEXT },
    ),
  };
}

function toRecord(row: { id: string; version: number; public_key: Uint8Array; wrapped_secret: Uint8Array; created_at: number }): ServiceKeyRecord {
  return {
    id: row.id,
    version: Number(row.version),
    publicKey: new Uint8Array(row.public_key),
    wrappedSecret: new Uint8Array(row.wrapped_secret),
    createdAt: Number(row.created_at),
  };
}

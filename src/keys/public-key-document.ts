import type { PublishedOrgKeys } from './org-keys.js';

/**
 * The published public keys, in the documented JSON format of `GET /v1/keys/<org id>` and
 * `GET /v1/keys/service` (README "Public keys"), also embedded in audit export files. Third parties
 * use them to verify envelope signatures and audit checkpoints without trusting the server; keep this
 * format stable. No store access here: the rows come from src/keys/org-keys.ts and
 * src/audit/service-key.ts.
 */

/** Composite ML-DSA-65 + Ed25519 over SHA-512 (docs/envelope.md); public key = pk_ML-DSA-65 (1952) ‖ pk_Ed25519 (32). */
export const SIGNING_ALGORITHM = 'MLDSA65-Ed25519-SHA512';
/** X-Wing (ML-KEM-768 + X25519); public key = pk_ML-KEM-768 (1184) ‖ pk_X25519 (32). */
export const KEM_ALGORITHM = 'X-Wing';

export interface PublicKeyEntry {
  readonly key_id: string;
  readonly kind: 'signing' | 'kem';
  readonly version: number;
  readonly algorithm: string;
  /** base64url, no padding */
  readonly public_key: string;
  readonly created_at: string;
  /** The newest version of its kind: what new envelopes (or checkpoints) use. */
  readonly active: boolean;
  /** Service keys only: what the key signs, and the composite-signature context string. */
  readonly purpose?: string;
  readonly context?: string;
}

export interface PublicKeyDocument {
  readonly org_id: string;
  readonly name: string;
  readonly keys: readonly PublicKeyEntry[];
}

export interface KeyRow {
  readonly id: string;
  readonly kind: 'signing' | 'kem';
  readonly version: number;
  readonly publicKey: Uint8Array;
  readonly createdAt: number;
}

export function publicKeyEntries(rows: readonly KeyRow[], extra: Partial<PublicKeyEntry> = {}): PublicKeyEntry[] {
  const newest = new Map<string, number>();
  for (const r of rows) newest.set(r.kind, Math.max(newest.get(r.kind) ?? 0, r.version));
  return [...rows]
    .sort((a, b) => b.version - a.version || (a.kind === b.kind ? 0 : a.kind === 'signing' ? -1 : 1))
    .map((r) => ({
      key_id: r.id,
      kind: r.kind,
      version: r.version,
      algorithm: r.kind === 'signing' ? SIGNING_ALGORITHM : KEM_ALGORITHM,
      public_key: Buffer.from(r.publicKey).toString('base64url'),
      created_at: new Date(r.createdAt).toISOString(),
      active: newest.get(r.kind) === r.version,
      ...extra,
    }));
}

/** The organisation's document (`GET /v1/keys/<org id>`). */
export function orgKeyDocument(published: PublishedOrgKeys): PublicKeyDocument {
  return { org_id: published.orgId, name: published.name, keys: publicKeyEntries(published.keys) };
}

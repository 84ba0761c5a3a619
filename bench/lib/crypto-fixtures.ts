import { createHash, randomBytes } from 'node:crypto';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../../src/crypto/composite-signature.js';
import type { CryptoProviders } from '../../src/crypto/providers.js';
import type { XWingExpandedKey } from '../../src/crypto/x-wing.js';
import type { OpenKeys, SealRecipient, SealSigner } from '../../src/envelope/index.js';

/**
 * Key material and payloads for the crypto benchmark. Keys are derived from labels, so every run
 * uses the same keys. Identifier lengths match the service's ids (docs/envelope.md §Overhead): org
 * ids of 24 characters and key ids of 31 (`<org id>.sig.v1`, `<org id>.kem.v1`).
 */

export const SENDER_ORG_ID = 'org_01JD8X4K2M9Q7R5T3V6W';
export const RECIPIENT_ORG_ID = 'org_01JD8X4P6N1B3C5D7F9H';
export const SENDER_NAME = 'Rockville Insurance Group';

export interface BenchOrg {
  readonly orgId: string;
  readonly name: string;
  readonly signKeyId: string;
  readonly kemKeyId: string;
  readonly signing: CompositeSigningKey;
  readonly verifying: CompositeVerifyingKey;
  readonly kem: XWingExpandedKey;
  readonly kemPublicKey: Uint8Array;
}

export function seedFrom(label: string, length: number): Uint8Array {
  const h = createHash('shake256', { outputLength: length });
  h.update(`pqseal-bench/${label}`);
  return new Uint8Array(h.digest());
}

/** Fresh random bytes as a plain Uint8Array (not a Buffer). */
export function randomPlain(length: number): Uint8Array {
  const b = randomBytes(length);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function makeOrg(p: CryptoProviders, orgId: string, name: string): BenchOrg {
  const signing = p.composite.expandSecret(seedFrom(`${orgId}/signing`, 64));
  const kem = p.xWing.expand(seedFrom(`${orgId}/kem`, 32));
  return {
    orgId,
    name,
    signKeyId: `${orgId}.sig.v1`,
    kemKeyId: `${orgId}.kem.v1`,
    signing,
    verifying: p.composite.parsePublic(signing.publicKey),
    kem,
    kemPublicKey: p.xWing.publicKey(kem),
  };
}

export function recipientOf(org: BenchOrg): SealRecipient {
  return { orgId: org.orgId, kemKeyId: org.kemKeyId, publicKey: org.kemPublicKey };
}

export function signerOf(org: BenchOrg): SealSigner {
  return { orgId: org.orgId, keyId: org.signKeyId, displayName: org.name, key: org.signing };
}

/** Keys as the service resolves them: the recipient's own KEM key and the known signer's public key. */
export function keysFor(recipient: BenchOrg, known: readonly BenchOrg[]): OpenKeys {
  return {
    kemKey: (orgId, keyId) => (orgId === recipient.orgId && keyId === recipient.kemKeyId ? recipient.kem : undefined),
    signerKey: (orgId, keyId) => known.find((o) => o.orgId === orgId && o.signKeyId === keyId)?.verifying,
  };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Throws when a pre-flight correctness check fails; a benchmark of a broken path is worthless. */
export function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`bench pre-flight check failed: ${what}`);
}

import { createHash } from 'node:crypto';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../../src/crypto/composite-signature.js';
import type { CryptoProviders } from '../../src/crypto/providers.js';
import type { XWingExpandedKey } from '../../src/crypto/x-wing.js';
import type { OpenKeys } from '../../src/envelope/index.js';

/** A test organisation's key material, derived from a label so tests are reproducible. */
export interface TestOrg {
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
  h.update(label);
  return new Uint8Array(h.digest());
}

export function makeOrg(p: CryptoProviders, orgId: string, name: string): TestOrg {
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

/** Keys as a server would resolve them: the recipient's own KEM key, and any known org's signing key. */
export function keysFor(recipient: TestOrg, known: readonly TestOrg[]): OpenKeys {
  return {
    kemKey: (orgId, keyId) => (orgId === recipient.orgId && keyId === recipient.kemKeyId ? recipient.kem : undefined),
    signerKey: (orgId, keyId) => known.find((o) => o.orgId === orgId && o.signKeyId === keyId)?.verifying,
  };
}

export function recipientOf(org: TestOrg) {
  return { orgId: org.orgId, kemKeyId: org.kemKeyId, publicKey: org.kemPublicKey };
}

export function signerOf(org: TestOrg) {
  return { orgId: org.orgId, keyId: org.signKeyId, displayName: org.name, key: org.signing };
}

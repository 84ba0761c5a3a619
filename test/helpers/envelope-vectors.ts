import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes, utf8 } from '../../src/crypto/bytes.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { open, seal, type PermissionGrant } from '../../src/envelope/index.js';
import { seedFrom } from './org-keys.js';

/**
 * Deterministic envelope test vectors (docs/envelope.md §Test vectors). Every random input is
 * written out explicitly, and ML-DSA signs in its deterministic variant (rnd = 0^32, FIPS 204 §3.4),
 * so a second implementation can reproduce each envelope byte for byte.
 *
 * Regenerate: `npm run build && node dist/test/helpers/envelope-vectors.js --write`
 */

export const VECTORS_FILE = fileURLToPath(new URL('../../../test/vectors/envelope-v1.json', import.meta.url));

export interface EnvelopeVectorOrg {
  org_id: string;
  name: string;
  signing_key_id: string;
  /** 64 bytes: ML-DSA-65 seed ξ (32) || Ed25519 seed (32). */
  signing_seed: string;
  signing_public_key: string;
  kem_key_id: string;
  /** 32-byte X-Wing decapsulation key (seed). */
  kem_seed: string;
  kem_public_key: string;
}

export interface EnvelopeVector {
  name: string;
  recipient: EnvelopeVectorOrg;
  signer: EnvelopeVectorOrg | null;
  plaintext_utf8?: string;
  plaintext_hex?: string;
  permissions: PermissionGrant[];
  created_at_micros: string;
  envelope_id: string;
  /** 64 bytes: ML-KEM-768 encapsulation randomness m (32) || X25519 ephemeral secret (32). */
  xwing_eseed: string;
  expected: {
    envelope: string;
    byte_length: number;
    envelope_id: string;
    created_at: string;
    signature_status: 'valid' | 'absent';
  };
}

export function org(p: CryptoProviders, orgId: string, name: string): EnvelopeVectorOrg {
  const signingSeed = seedFrom(`vector/${orgId}/signing`, 64);
  const kemSeed = seedFrom(`vector/${orgId}/kem`, 32);
  return {
    org_id: orgId,
    name,
    signing_key_id: `sig_${orgId}_v1`,
    signing_seed: bytesToHex(signingSeed),
    signing_public_key: bytesToHex(p.composite.expandSecret(signingSeed).publicKey),
    kem_key_id: `kem_${orgId}_v1`,
    kem_seed: bytesToHex(kemSeed),
    kem_public_key: bytesToHex(p.xWing.publicKey(p.xWing.expand(kemSeed))),
  };
}

/** Seals one vector's inputs; used both to generate and to check the checked-in file. */
export function sealVector(p: CryptoProviders, v: Omit<EnvelopeVector, 'expected'>) {
  const queue = [hexToBytes(v.envelope_id), hexToBytes(v.xwing_eseed)];
  const random = (n: number): Uint8Array => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error('vector randomness consumed out of order');
    return next;
  };
  const plaintext = v.plaintext_utf8 ?? hexToBytes(v.plaintext_hex ?? '');
  return seal(p, {
    plaintext,
    recipient: { orgId: v.recipient.org_id, kemKeyId: v.recipient.kem_key_id, publicKey: hexToBytes(v.recipient.kem_public_key) },
    signer: v.signer
      ? {
          orgId: v.signer.org_id,
          keyId: v.signer.signing_key_id,
          displayName: v.signer.name,
          key: p.composite.expandSecret(hexToBytes(v.signer.signing_seed)),
        }
      : undefined,
    permissions: v.permissions,
    createdAtMicros: BigInt(v.created_at_micros),
    random,
  });
}

export async function buildVectors(): Promise<EnvelopeVector[]> {
  const p = await loadProviders('deterministic');
  const rockville = org(p, 'org_rockville', 'Rockville Insurance Group');
  const partner = org(p, 'org_partner', 'Partner Health Cooperative');
  const inputs: Omit<EnvelopeVector, 'expected'>[] = [
    {
      name: 'sign-encrypt, seed example text',
      recipient: rockville,
      signer: rockville,
      plaintext_utf8: 'sensitive information to sign and encrypt',
      permissions: [],
    },
    { name: 'encrypt, unicode text', recipient: rockville, signer: null, plaintext_utf8: 'Grüße 🔐 مرحبا \u0000 end', permissions: [] },
    {
      name: 'sign-encrypt to a partner, binary payload, permission list',
      recipient: partner,
      signer: rockville,
      plaintext_hex: bytesToHex(utf8.encode('claim #2291: approved')) + '00ff10',
      permissions: [{ partnerId: 'org_rockville', actions: ['read'], expiresAt: '2030-01-01T00:00:00.000Z' }],
    },
    { name: 'sign-encrypt, empty plaintext', recipient: partner, signer: partner, plaintext_utf8: '', permissions: [] },
  ].map((v, i) => ({
    ...v,
    created_at_micros: String(1_760_894_907_659_100n + BigInt(i) * 1_000_000n),
    envelope_id: bytesToHex(seedFrom(`vector/${i}/envelope-id`, 16)),
    xwing_eseed: bytesToHex(seedFrom(`vector/${i}/eseed`, 64)),
  }));
  return inputs.map((v) => {
    const sealed = sealVector(p, v);
    return {
      ...v,
      expected: {
        envelope: sealed.envelope,
        byte_length: sealed.byteLength,
        envelope_id: sealed.envelopeId,
        created_at: sealed.createdAt,
        signature_status: v.signer ? 'valid' : 'absent',
      },
    };
  });
}

/** What decrypt-verify answers for a signed vector (wire spelling), for offline verification by the SDK. */
export interface VectorClaim {
  readonly name: string;
  readonly encryptedData: string;
  readonly result: {
    readonly decrypted_data: string;
    readonly data_encoding?: 'base64';
    readonly signed_by: string;
    readonly signed_timestamp: string;
    readonly envelope_id: string;
    readonly signer_org_id: string;
    readonly signer_key_id: string;
    readonly signature: string;
  };
  /** The signer's composite public key, base64url (as GET /v1/keys publishes it). */
  readonly publicKey: string;
}

/** Opens every signed vector with the server's code, as the server would answer decrypt-verify. */
export function vectorClaims(p: CryptoProviders, vectors: readonly EnvelopeVector[]): VectorClaim[] {
  return vectors.flatMap((v) => {
    if (!v.signer) return [];
    const signer = v.signer;
    const kem = p.xWing.expand(hexToBytes(v.recipient.kem_seed));
    const opened = open(p, v.expected.envelope, {
      kemKey: () => kem,
      signerKey: () => p.composite.parsePublic(hexToBytes(signer.signing_public_key)),
    });
    if (opened.signature.status !== 'valid') throw new Error(`vector ${v.name} does not verify`);
    const payload = Buffer.from(opened.plaintext);
    return [
      {
        name: v.name,
        encryptedData: v.expected.envelope,
        result: {
          decrypted_data: v.plaintext_utf8 ?? payload.toString('base64'),
          ...(v.plaintext_utf8 === undefined ? { data_encoding: 'base64' as const } : {}),
          signed_by: opened.signature.signerName,
          signed_timestamp: opened.signature.signedAt,
          envelope_id: opened.envelopeId,
          signer_org_id: opened.signature.signerOrgId,
          signer_key_id: opened.signature.signerKeyId,
          signature: Buffer.from(opened.signature.signature).toString('base64url'),
        },
        publicKey: Buffer.from(hexToBytes(signer.signing_public_key)).toString('base64url'),
      },
    ];
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const vectors = await buildVectors();
  writeFileSync(VECTORS_FILE, `${JSON.stringify({ format: 'pqseal envelope v1 test vectors', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${VECTORS_FILE}`);
}

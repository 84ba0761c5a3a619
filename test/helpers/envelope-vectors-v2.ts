import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BATCH_SIGNATURE_CONTEXT,
  batchLeaf,
  batchRootMessage,
  decodeBase64Url,
  encodeBase64Url,
  merkleTree,
  parseEnvelopeBytes,
  signedMessage,
  MAX_PERMISSION_BYTES,
} from '@pqseal/sdk/envelope';
import { bytesToHex, hexToBytes, utf8 } from '../../src/crypto/bytes.js';
import { sha256, sha512 } from '../../src/crypto/hash.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { open, sealBatch, type PermissionGrant } from '../../src/envelope/index.js';
import type { SealedEnvelope } from '../../src/envelope/seal.js';
import { deriveAeadKey } from '../../src/envelope/key-schedule.js';
import { org, type EnvelopeVectorOrg } from './envelope-vectors.js';
import { seedFrom } from './org-keys.js';

/**
 * Deterministic envelope v2 test vectors (docs/envelope.md §Envelope v2, §Test vectors): one vector is
 * one batch, sealed with `sealBatch`. Every random input is written out in the order `sealBatch` draws
 * it (every envelope id, then the X-Wing eseed, then every leaf salt), ML-DSA signs deterministically
 * (rnd = 0^32), and the intermediate values a second implementation needs are listed beside the
 * expected envelopes.
 *
 * Regenerate: `npm run build && node dist/test/helpers/envelope-vectors-v2.js --write`
 */

export const VECTORS_V2_FILE = fileURLToPath(new URL('../../../test/vectors/envelope-v2.json', import.meta.url));

export interface EnvelopeV2VectorItem {
  plaintext_utf8?: string;
  plaintext_hex?: string;
  permissions: PermissionGrant[];
  /** Random input: 16 bytes. */
  envelope_id: string;
  /** Random input for signed batches: 32 bytes. */
  leaf_salt?: string;
}

export interface EnvelopeV2VectorInput {
  name: string;
  recipient: EnvelopeVectorOrg;
  signer: EnvelopeVectorOrg | null;
  created_at_micros: string;
  /** 64 bytes: ML-KEM-768 encapsulation randomness m (32) || X25519 ephemeral secret (32). One per batch. */
  xwing_eseed: string;
  items: EnvelopeV2VectorItem[];
}

/** Intermediate values of one envelope (hex). */
export interface EnvelopeV2Intermediate {
  aead_key: string;
  aead_nonce: string;
  /** Signed batches: M_i, the envelope's signed message (docs/envelope.md §The signed message, version 2). */
  signed_message?: string;
  /** Signed batches: SHA-256(0x00 || "pqseal-batch-leaf-v2" || leaf_salt || M_i). */
  leaf_hash?: string;
  /** Signed batches: the RFC 9162 inclusion path, leaf first. */
  path?: string[];
}

export interface EnvelopeV2Vector extends EnvelopeV2VectorInput {
  intermediate: {
    kem_ciphertext: string;
    shared_secret: string;
    /** Signed batches: the RFC 9162 Merkle tree head over the leaf hashes. */
    merkle_root?: string;
    /** Signed batches: "pqseal-batch-root-v2" || u32(batch_size) || merkle_root, what σ covers. */
    m_root?: string;
    /** Signed batches: the composite signature every envelope of the batch carries. */
    signature?: string;
    envelopes: EnvelopeV2Intermediate[];
  };
  expected: {
    signature_status: 'valid' | 'absent';
    envelopes: { envelope: string; byte_length: number; envelope_id: string; created_at: string }[];
  };
}

function plaintextOf(item: EnvelopeV2VectorItem): string | Uint8Array {
  return item.plaintext_utf8 ?? hexToBytes(item.plaintext_hex ?? '');
}

function payloadOf(item: EnvelopeV2VectorItem): Uint8Array {
  return item.plaintext_utf8 !== undefined ? utf8.encode(item.plaintext_utf8) : hexToBytes(item.plaintext_hex ?? '');
}

/** Seals one vector's batch from its inputs; used both to generate and to check the checked-in file. */
export function sealVectorBatch(p: CryptoProviders, v: EnvelopeV2VectorInput): SealedEnvelope[] {
  const queue = [
    ...v.items.map((i) => hexToBytes(i.envelope_id)),
    hexToBytes(v.xwing_eseed),
    ...(v.signer ? v.items.map((i) => hexToBytes(i.leaf_salt ?? '')) : []),
  ];
  const random = (n: number): Uint8Array => {
    const next = queue.shift();
    if (!next || next.length !== n) throw new Error('vector randomness consumed out of order');
    return next;
  };
  const outcomes = sealBatch(p, {
    items: v.items.map((i) => ({ plaintext: plaintextOf(i), permissions: i.permissions })),
    recipient: { orgId: v.recipient.org_id, kemKeyId: v.recipient.kem_key_id, publicKey: hexToBytes(v.recipient.kem_public_key) },
    signer: v.signer
      ? { orgId: v.signer.org_id, keyId: v.signer.signing_key_id, displayName: v.signer.name, key: p.composite.expandSecret(hexToBytes(v.signer.signing_seed)) }
      : undefined,
    createdAtMicros: BigInt(v.created_at_micros),
    random,
  });
  if (queue.length !== 0) throw new Error('vector randomness left unused');
  return outcomes.map((o) => {
    if (o instanceof Error) throw o;
    return o;
  });
}

/**
 * The intermediate values, computed from the inputs step by step with the format module (not read
 * back from the sealed envelopes), so the test that compares them with the envelopes checks both.
 */
function intermediates(p: CryptoProviders, v: EnvelopeV2VectorInput, sealed: readonly SealedEnvelope[]): EnvelopeV2Vector['intermediate'] {
  const { cipherText, sharedSecret } = p.xWing.encapsulate(hexToBytes(v.recipient.kem_public_key), hexToBytes(v.xwing_eseed));
  const envelopes: EnvelopeV2Intermediate[] = v.items.map((item) => {
    const { key, nonce } = deriveAeadKey(sharedSecret, hexToBytes(item.envelope_id), 2, 1);
    return { aead_key: bytesToHex(key), aead_nonce: bytesToHex(nonce) };
  });
  const base = { kem_ciphertext: bytesToHex(cipherText), shared_secret: bytesToHex(sharedSecret), envelopes };
  const signer = v.signer;
  if (!signer) return base;
  const messages = sealed.map((s, i) => {
    const parsed = parseEnvelopeBytes(decodeBase64Url(s.envelope), MAX_PERMISSION_BYTES);
    const header = parsed.aad.subarray(0, parsed.aad.length - parsed.kemCipherText.length);
    const identity = { orgId: signer.org_id, keyId: signer.signing_key_id, displayName: signer.name };
    return signedMessage(header, identity, sha512(payloadOf(v.items[i] as EnvelopeV2VectorItem)), 2);
  });
  const leaves = messages.map((m, i) => batchLeaf(sha256, hexToBytes(v.items[i]?.leaf_salt ?? ''), m));
  const { root, paths } = merkleTree(sha256, leaves);
  const mRoot = batchRootMessage(leaves.length, root);
  const signature = p.composite.sign(p.composite.expandSecret(hexToBytes(signer.signing_seed)), mRoot, BATCH_SIGNATURE_CONTEXT);
  return {
    ...base,
    merkle_root: bytesToHex(root),
    m_root: bytesToHex(mRoot),
    signature: bytesToHex(signature),
    envelopes: envelopes.map((e, i) => ({
      ...e,
      signed_message: bytesToHex(messages[i] as Uint8Array),
      leaf_hash: bytesToHex(leaves[i] as Uint8Array),
      path: (paths[i] as Uint8Array[]).map(bytesToHex),
    })),
  };
}

const text = (s: string): Omit<EnvelopeV2VectorItem, 'envelope_id'> => ({ plaintext_utf8: s, permissions: [] });

export async function buildV2Vectors(): Promise<EnvelopeV2Vector[]> {
  const p = await loadProviders('deterministic');
  const rockville = org(p, 'org_rockville', 'Rockville Insurance Group');
  const partner = org(p, 'org_partner', 'Partner Health Cooperative');
  const grant = { partnerId: 'org_rockville', actions: ['read'], expiresAt: '2030-01-01T00:00:00.000Z' };
  const batches: { name: string; recipient: EnvelopeVectorOrg; signer: EnvelopeVectorOrg | null; items: Omit<EnvelopeV2VectorItem, 'envelope_id'>[] }[] = [
    { name: 'sign-encrypt, batch of 1 (empty path)', recipient: rockville, signer: rockville, items: [text('sensitive information to sign and encrypt')] },
    { name: 'sign-encrypt, batch of 2', recipient: rockville, signer: rockville, items: [text('first of two'), text('second of two')] },
    {
      name: 'sign-encrypt to a partner, batch of 3 (unbalanced tree), binary payload, permission list',
      recipient: partner,
      signer: rockville,
      items: [
        text('claim #2291: approved'),
        { plaintext_hex: bytesToHex(utf8.encode('claim #2292: denied')) + '00ff10', permissions: [grant] },
        { plaintext_utf8: 'claim #2293: pending', permissions: [grant] },
      ],
    },
    {
      name: 'sign-encrypt, batch of 5, unicode and empty plaintexts',
      recipient: partner,
      signer: partner,
      items: [text('one'), text('Grüße 🔐 مرحبا \u0000 end'), text(''), { plaintext_hex: '00010203', permissions: [] }, text('five')],
    },
    {
      name: 'encrypt (unsigned), batch of 3',
      recipient: rockville,
      signer: null,
      items: [text('plain one'), text(''), { plaintext_hex: 'ff', permissions: [grant] }],
    },
  ];
  return batches.map((b, n) => {
    const input: EnvelopeV2VectorInput = {
      name: b.name,
      recipient: b.recipient,
      signer: b.signer,
      created_at_micros: String(1_790_000_000_000_000n + BigInt(n) * 1_000_000n),
      xwing_eseed: bytesToHex(seedFrom(`vector-v2/${n}/eseed`, 64)),
      items: b.items.map((item, i) => ({
        ...item,
        envelope_id: bytesToHex(seedFrom(`vector-v2/${n}/${i}/envelope-id`, 16)),
        ...(b.signer ? { leaf_salt: bytesToHex(seedFrom(`vector-v2/${n}/${i}/leaf-salt`, 32)) } : {}),
      })),
    };
    const sealed = sealVectorBatch(p, input);
    return {
      ...input,
      intermediate: intermediates(p, input, sealed),
      expected: {
        signature_status: b.signer ? 'valid' : 'absent',
        envelopes: sealed.map((s) => ({ envelope: s.envelope, byte_length: s.byteLength, envelope_id: s.envelopeId, created_at: s.createdAt })),
      },
    };
  });
}

/** The batch proof of decrypt-verify (wire spelling). */
export interface WireBatchProof {
  readonly leaf_salt: string;
  readonly batch_size: number;
  readonly leaf_index: number;
  readonly path: readonly string[];
}

/** What decrypt-verify answers for one envelope of a signed v2 vector (wire spelling), for the SDK's offline verification. */
export interface V2VectorClaim {
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
    readonly batch_proof: WireBatchProof;
  };
  readonly publicKey: string;
}

/** Opens every envelope of every signed v2 vector with the server's code, as decrypt-verify would answer. */
export function v2VectorClaims(p: CryptoProviders, vectors: readonly EnvelopeV2Vector[]): V2VectorClaim[] {
  return vectors.flatMap((v) => {
    const signer = v.signer;
    if (!signer) return [];
    const kem = p.xWing.expand(hexToBytes(v.recipient.kem_seed));
    return v.expected.envelopes.map((e, i) => {
      const opened = open(p, e.envelope, { kemKey: () => kem, signerKey: () => p.composite.parsePublic(hexToBytes(signer.signing_public_key)) });
      const check = opened.signature;
      if (check.status !== 'valid' || !check.batch) throw new Error(`vector ${v.name} #${i} does not verify`);
      const item = v.items[i] as EnvelopeV2VectorItem;
      return {
        name: `${v.name} #${i}`,
        encryptedData: e.envelope,
        result: {
          decrypted_data: item.plaintext_utf8 ?? Buffer.from(opened.plaintext).toString('base64'),
          ...(item.plaintext_utf8 === undefined ? { data_encoding: 'base64' as const } : {}),
          signed_by: check.signerName,
          signed_timestamp: check.signedAt,
          envelope_id: opened.envelopeId,
          signer_org_id: check.signerOrgId,
          signer_key_id: check.signerKeyId,
          signature: encodeBase64Url(check.signature),
          batch_proof: {
            leaf_salt: encodeBase64Url(check.batch.leafSalt),
            batch_size: check.batch.size,
            leaf_index: check.batch.index,
            path: check.batch.path.map(encodeBase64Url),
          },
        },
        publicKey: encodeBase64Url(hexToBytes(signer.signing_public_key)),
      };
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const vectors = await buildV2Vectors();
  writeFileSync(VECTORS_V2_FILE, `${JSON.stringify({ format: 'pqseal envelope v2 test vectors', vectors }, null, 2)}\n`);
  console.log(`wrote ${vectors.length} vectors to ${VECTORS_V2_FILE}`);
}

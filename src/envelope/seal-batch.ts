import { randomBytes } from 'node:crypto';
import {
  BATCH_SIGNATURE_CONTEXT,
  ENVELOPE_VERSION_2,
  EnvelopeError,
  LEAF_SALT_BYTES,
  MAX_BATCH_SIZE,
  MAX_PERMISSION_BYTES,
  MAX_PLAINTEXT_BYTES,
  SUITE_XWING_AES256GCM_MLDSA65ED25519,
  batchLeaf,
  batchRootMessage,
  bytesToHex,
  concatBytes,
  encodeBase64Url,
  encodeHeader,
  encodeInnerPrefix,
  encodePermissions,
  formatMicros,
  merkleTree,
  nowMicros,
  signedMessage,
  type BatchProof,
  type ContentType,
  type PermissionGrant,
} from '@pqseal/sdk/envelope';
import { aesGcmSeal } from '../crypto/aes-gcm.js';
import { utf8 } from '../crypto/bytes.js';
import { sha256, sha512Stream } from '../crypto/hash.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { deriveAeadKey } from './key-schedule.js';
import { checkSigner, type SealRecipient, type SealSigner, type SealedEnvelope } from './seal.js';

export interface BatchSealItem {
  readonly plaintext: string | Uint8Array;
  readonly permissions?: readonly PermissionGrant[] | undefined;
}

export interface BatchSealInput {
  readonly items: readonly BatchSealItem[];
  /** Every envelope of a batch is sealed to this one recipient key: the encapsulation is shared. */
  readonly recipient: SealRecipient;
  /** Present for sign-encrypt: one signature covers the batch. */
  readonly signer?: SealSigner | undefined;
  /** Injected only to make test vectors reproducible. */
  readonly createdAtMicros?: bigint;
  /**
   * Injected only to make test vectors reproducible. Drawn in this order: every envelope id (16
   * bytes each, in item order), the X-Wing eseed (64), then every leaf salt (32 each, in item order).
   */
  readonly random?: (length: number) => Uint8Array;
}

/** One outcome per item, in order: an item that cannot be sealed fails alone. */
export type BatchSealOutcome = SealedEnvelope | EnvelopeError | RangeError;

interface Prepared {
  readonly index: number;
  readonly envelopeId: Uint8Array;
  readonly header: Uint8Array;
  readonly payload: Uint8Array;
}

/**
 * Seals a batch of v2 envelopes (docs/envelope.md §Envelope v2): ONE X-Wing encapsulation for the
 * batch, each envelope's AEAD key and nonce derived from the shared secret with its own envelope id
 * as HKDF salt; signed, ONE composite signature over the RFC 9162 Merkle root of the envelopes'
 * salted signed messages, each envelope carrying its inclusion proof. A batch of one is a single
 * envelope with an empty path.
 */
export function sealBatch(providers: CryptoProviders, input: BatchSealInput): BatchSealOutcome[] {
  if (input.items.length > MAX_BATCH_SIZE) throw new RangeError(`a batch holds at most ${MAX_BATCH_SIZE} envelopes`);
  if (input.signer) checkSigner(input.signer);
  const random = input.random ?? randomBytes;
  const createdAtMicros = input.createdAtMicros ?? nowMicros();
  const outcomes: BatchSealOutcome[] = new Array<BatchSealOutcome>(input.items.length);
  const prepared: Prepared[] = [];
  const ids = new Set<string>();
  input.items.forEach((item, index) => {
    const envelopeId = uniqueId(random, ids);
    try {
      prepared.push({ index, envelopeId, ...encodeItem(item, envelopeId, createdAtMicros, input.recipient) });
    } catch (e) {
      if (!(e instanceof EnvelopeError || e instanceof RangeError)) throw e;
      outcomes[index] = e;
    }
  });
  if (prepared.length === 0) return outcomes;

  const { cipherText: kemCipherText, sharedSecret } = providers.xWing.encapsulate(input.recipient.publicKey, input.random ? input.random(64) : undefined);
  const prefixes = input.signer ? signBatch(providers, input.signer, prepared, random) : prepared.map(() => encodeInnerPrefix(undefined, 2));
  prepared.forEach((p, i) => {
    const aad = concatBytes(p.header, kemCipherText);
    const { key, nonce } = deriveAeadKey(sharedSecret, p.envelopeId, ENVELOPE_VERSION_2, SUITE_XWING_AES256GCM_MLDSA65ED25519);
    const bytes = aesGcmSeal(key, nonce, [prefixes[i] as Uint8Array, p.payload], aad, aad);
    outcomes[p.index] = {
      envelope: encodeBase64Url(bytes),
      envelopeId: bytesToHex(p.envelopeId),
      createdAt: formatMicros(createdAtMicros),
      byteLength: bytes.length,
    };
  });
  return outcomes;
}

/** Envelope ids key the AEAD derivation of a shared encapsulation: they must differ within a batch. */
function uniqueId(random: (length: number) => Uint8Array, seen: Set<string>): Uint8Array {
  for (;;) {
    const id = random(16);
    const hex = bytesToHex(id);
    if (!seen.has(hex)) {
      seen.add(hex);
      return id;
    }
  }
}

function encodeItem(item: BatchSealItem, envelopeId: Uint8Array, createdAtMicros: bigint, recipient: SealRecipient) {
  const payload = typeof item.plaintext === 'string' ? utf8.encode(item.plaintext) : item.plaintext;
  if (payload.length > MAX_PLAINTEXT_BYTES) throw new EnvelopeError('ENVELOPE_TOO_LARGE', `plaintext exceeds ${MAX_PLAINTEXT_BYTES} bytes`);
  const contentType: ContentType = typeof item.plaintext === 'string' ? 'text' : 'binary';
  const permissions = item.permissions ?? [];
  const permissionBytes = encodePermissions(permissions);
  if (permissionBytes.length > MAX_PERMISSION_BYTES) throw new RangeError('permission list too long');
  const header = encodeHeader(
    {
      version: ENVELOPE_VERSION_2,
      suite: SUITE_XWING_AES256GCM_MLDSA65ED25519,
      envelopeId,
      createdAtMicros,
      contentType,
      ownerOrgId: recipient.orgId,
      kemKeyId: recipient.kemKeyId,
      permissions,
    },
    permissionBytes,
  );
  return { header, payload };
}

/** The inner prefixes of a signed batch: one Merkle tree, one signature, a proof per envelope. */
function signBatch(providers: CryptoProviders, signer: SealSigner, prepared: readonly Prepared[], random: (length: number) => Uint8Array): Uint8Array[] {
  const salts = prepared.map(() => random(LEAF_SALT_BYTES));
  const leaves = prepared.map((p, i) => {
    const digest = new Uint8Array(sha512Stream().update(p.payload).digest());
    return batchLeaf(sha256, salts[i] as Uint8Array, signedMessage(p.header, signer, digest, 2));
  });
  const { root, paths } = merkleTree(sha256, leaves);
  const signature = providers.composite.sign(signer.key, batchRootMessage(prepared.length, root), BATCH_SIGNATURE_CONTEXT);
  return prepared.map((_, i) => {
    const batch: BatchProof = { leafSalt: salts[i] as Uint8Array, size: prepared.length, index: i, path: paths[i] as Uint8Array[] };
    return encodeInnerPrefix({ signer, signature, batch }, 2);
  });
}

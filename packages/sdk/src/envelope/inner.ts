import { concatBytes, uintBE, utf8 } from './bytes.js';
import { COMPOSITE_MLDSA65_ED25519_SIZES } from './composite-message.js';
import { ByteReader, lp16, lp8 } from './byte-reader.js';
import { malformed } from './errors.js';
import { readIdentifier, type EnvelopeVersion } from './format.js';
import { LEAF_SALT_BYTES, MAX_BATCH_SIZE, type BatchProof } from './batch-signature.js';
import { MERKLE_NODE_BYTES, inclusionPathLength } from './merkle.js';
import type { SignerIdentity } from './signed-message.js';

/**
 * The encrypted inner structure:
 *   kind u8 (0 = unsigned; 1 = signed, v1 only; 2 = batch-signed, v2 only)
 *   [signed: signer_org_id lp8 | signer_key_id lp8 | signer_name lp16
 *     [batch-signed: leaf_salt [32] | batch_size u32 | leaf_index u32 | path_length u8 | path [32 × path_length]]
 *     | signature [3373]]
 *   payload (rest)
 */

const UNSIGNED = 0;
const SIGNED = 1;
const BATCH_SIGNED = 2;
export const MAX_DISPLAY_NAME_BYTES = 1024;

export interface InnerSignature {
  readonly signer: SignerIdentity;
  readonly signature: Uint8Array;
  /** Present exactly in v2 signed envelopes. */
  readonly batch?: BatchProof | undefined;
}

export function encodeInnerPrefix(signed?: InnerSignature, version: EnvelopeVersion = 1): Uint8Array {
  if (!signed) return new Uint8Array([UNSIGNED]);
  if ((version === 2) !== (signed.batch !== undefined)) throw new RangeError('v2 signatures are batch signatures, v1 signatures are not');
  return concatBytes(
    new Uint8Array([signed.batch ? BATCH_SIGNED : SIGNED]),
    ...lp8(utf8.encode(signed.signer.orgId)),
    ...lp8(utf8.encode(signed.signer.keyId)),
    ...lp16(utf8.encode(signed.signer.displayName)),
    ...(signed.batch ? encodeProof(signed.batch) : []),
    signed.signature,
  );
}

function encodeProof(proof: BatchProof): Uint8Array[] {
  if (proof.leafSalt.length !== LEAF_SALT_BYTES) throw new RangeError('leaf salt must be 32 bytes');
  if (proof.size < 1 || proof.size > MAX_BATCH_SIZE || proof.index < 0 || proof.index >= proof.size) throw new RangeError('batch index out of range');
  if (proof.path.length !== inclusionPathLength(proof.index, proof.size)) throw new RangeError('inclusion path has the wrong length');
  return [proof.leafSalt, uintBE(proof.size, 4), uintBE(proof.index, 4), new Uint8Array([proof.path.length]), ...proof.path];
}

export function decodeInner(inner: Uint8Array, version: EnvelopeVersion = 1): { signed?: InnerSignature; payload: Uint8Array } {
  const r = new ByteReader(inner);
  const kind = r.u8('inner kind');
  if (kind === UNSIGNED) return { payload: r.rest() };
  if (kind !== (version === 1 ? SIGNED : BATCH_SIGNED)) throw malformed('unknown inner kind');
  const orgId = readIdentifier(r, 'signer organisation id');
  const keyId = readIdentifier(r, 'signer key id');
  const displayName = r.string(2, 'signer name');
  if (utf8.encode(displayName).length > MAX_DISPLAY_NAME_BYTES) throw malformed('signer name too long');
  const batch = kind === BATCH_SIGNED ? readProof(r) : undefined;
  const signature = r.take(COMPOSITE_MLDSA65_ED25519_SIZES.signature, 'signature');
  return { signed: { signer: { orgId, keyId, displayName }, signature, batch }, payload: r.rest() };
}

/** Exactly one encoding per proof: the path length must be the one RFC 9162 gives for (index, size). */
function readProof(r: ByteReader): BatchProof {
  const leafSalt = r.take(LEAF_SALT_BYTES, 'leaf salt');
  const size = r.u32('batch size');
  const index = r.u32('leaf index');
  if (size < 1 || size > MAX_BATCH_SIZE || index >= size) throw malformed('batch index out of range');
  const length = r.u8('inclusion path length');
  if (length !== inclusionPathLength(index, size)) throw malformed('inclusion path has the wrong length');
  const path: Uint8Array[] = [];
  for (let i = 0; i < length; i++) path.push(r.take(MERKLE_NODE_BYTES, 'inclusion path'));
  return { leafSalt, size, index, path };
}

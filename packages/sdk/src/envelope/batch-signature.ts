import { concatBytes, uintBE, utf8 } from './bytes.js';
import { leafHash, rootFromPath, type Sha256 } from './merkle.js';

/**
 * Batch signatures (docs/envelope.md §Batch signatures): the signed messages of the envelopes sealed
 * together are the leaves of an RFC 9162 Merkle tree and ONE composite signature covers its root,
 * the construction of "Batch Signatures, Revisited" (Aguilar-Melchor et al., CT-RSA 2024, ePrint 2023/492).
 *
 *   leaf_i = SHA-256(0x00 || "pqseal-batch-leaf-v2" || leaf_salt_i || M_i)
 *   M_root = "pqseal-batch-root-v2" || u32(batch_size) || root
 *   σ      = Composite.Sign(sk, M_root, ctx = "pqseal-envelope-v2")
 *
 * `leaf_salt_i` is 32 fresh random bytes per envelope, drawn by the signer after the message is fixed:
 * a sibling hash in a path reveals nothing about the envelope it stands for, and a submitter cannot
 * prepare two messages with colliding leaves (target-collision, not collision, resistance).
 */

export const BATCH_SIGNATURE_CONTEXT = utf8.encode('pqseal-envelope-v2');
const LEAF_LABEL = utf8.encode('pqseal-batch-leaf-v2');
const ROOT_LABEL = utf8.encode('pqseal-batch-root-v2');
export const LEAF_SALT_BYTES = 32;
/** Envelopes per batch at most: a path then has at most 16 nodes (512 bytes). */
export const MAX_BATCH_SIZE = 65_536;

/** What one envelope carries to tie its signed message to the signed root. */
export interface BatchProof {
  readonly leafSalt: Uint8Array;
  readonly size: number;
  readonly index: number;
  /** RFC 9162 inclusion path, leaf first. */
  readonly path: readonly Uint8Array[];
}

export function batchLeaf(sha256: Sha256, leafSalt: Uint8Array, signedMessage: Uint8Array): Uint8Array {
  if (leafSalt.length !== LEAF_SALT_BYTES) throw new RangeError(`leaf salt must be ${LEAF_SALT_BYTES} bytes`);
  return leafHash(sha256, LEAF_LABEL, leafSalt, signedMessage);
}

export function batchRootMessage(size: number, root: Uint8Array): Uint8Array {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) throw new RangeError('batch size out of range');
  return concatBytes(ROOT_LABEL, uintBE(size, 4), root);
}

/**
 * M_root for an envelope's signed message and proof: the message its batch signature must verify
 * over, or undefined when the path cannot belong to that index and size.
 */
export function batchSignedRootMessage(sha256: Sha256, signedMessage: Uint8Array, proof: BatchProof): Uint8Array | undefined {
  const root = rootFromPath(sha256, batchLeaf(sha256, proof.leafSalt, signedMessage), proof.index, proof.size, proof.path);
  return root && batchRootMessage(proof.size, root);
}

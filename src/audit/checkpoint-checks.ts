import { utf8 } from '../crypto/bytes.js';
import type { CompositeSignature, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { checkpointHash, checkpointMessage, type Checkpoint } from './checkpoints.js';
import { CHECKPOINT_CONTEXT } from './service-key.js';

/** The checks of one checkpoint and of the links between a chain's checkpoints, shared by verify and the checkpointer. */

export type CheckpointProblemReason = 'CHECKPOINT_SIGNATURE_INVALID' | 'CHECKPOINT_KEY_UNKNOWN' | 'CHECKPOINT_CHAIN_BROKEN';

export interface CheckpointProblem {
  readonly seq: number;
  readonly reason: CheckpointProblemReason;
  readonly detail: string;
}

export interface SignatureCheck {
  readonly composite: CompositeSignature;
  readonly serviceKeys: ReadonlyMap<string, CompositeVerifyingKey>;
}

export function checkpointSignatureProblem(cp: Checkpoint, chainId: string, check: SignatureCheck): CheckpointProblem | null {
  const key = check.serviceKeys.get(cp.key_id);
  if (!key) return { seq: cp.seq, reason: 'CHECKPOINT_KEY_UNKNOWN', detail: `checkpoint at seq ${cp.seq} is signed by unknown key ${cp.key_id}` };
  let valid: boolean;
  try {
    valid =
      cp.chain_id === chainId &&
      check.composite.verify(key, checkpointMessage(cp), new Uint8Array(Buffer.from(cp.signature, 'base64url')), utf8.encode(CHECKPOINT_CONTEXT));
  } catch {
    valid = false;
  }
  return valid ? null : { seq: cp.seq, reason: 'CHECKPOINT_SIGNATURE_INVALID', detail: `the signature of the checkpoint at seq ${cp.seq} does not verify` };
}

/**
 * Walks a chain's checkpoints in seq order: every format 2 checkpoint must name the hash of the one
 * before it (null for the first), and no format 1 checkpoint may follow a format 2 one. Format 1
 * checkpoints (made before checkpoints were chained) are not linked to each other: deleting one of
 * them is not visible here — the first format 2 checkpoint covers the newest of them.
 * `before` is the checkpoint just before the first of `checkpoints`, when the walk starts mid-chain.
 */
export function checkpointLinkProblem(checkpoints: readonly Checkpoint[], before: Checkpoint | null = null): CheckpointProblem | null {
  let previous = before;
  for (const cp of checkpoints) {
    if (previous && cp.seq <= previous.seq) return { seq: cp.seq, reason: 'CHECKPOINT_CHAIN_BROKEN', detail: `checkpoint at seq ${cp.seq} is out of order` };
    if (cp.format === 1) {
      if (previous?.format === 2)
        return { seq: cp.seq, reason: 'CHECKPOINT_CHAIN_BROKEN', detail: `an unchained (format 1) checkpoint at seq ${cp.seq} follows a chained one` };
    } else {
      const expected = previous ? checkpointHash(previous) : null;
      if (cp.prev !== expected) {
        const said = cp.prev === null ? 'no earlier checkpoint' : `checkpoint ${cp.prev.slice(0, 16)}…`;
        const is = previous ? `the checkpoint at seq ${previous.seq}` : 'none';
        return {
          seq: cp.seq,
          reason: 'CHECKPOINT_CHAIN_BROKEN',
          detail: `checkpoint at seq ${cp.seq} covers ${said}, but the previous checkpoint present is ${is} (a checkpoint was deleted or replaced)`,
        };
      }
    }
    previous = cp;
  }
  return null;
}

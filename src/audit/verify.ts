import type { CompositeSignature, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { checkpointLinkProblem, checkpointSignatureProblem } from './checkpoint-checks.js';
import { sameCheckpoint, type Checkpoint } from './checkpoints.js';
import { GENESIS_HASH, recordHash, type AuditRecord } from './record.js';

/**
 * Recomputes one chain and checks its checkpoints; the same code serves the store (`pqseal audit
 * verify`), an exported file (`--file`) and the checkpointer before it signs. It stops at the first
 * broken link and says where. With trusted anchors (`--trusted`: an earlier export or published
 * checkpoints) it also checks that the chain extends what the auditor kept.
 */

export type BreakReason =
  | 'SEQUENCE_GAP' // a record is missing: deleted, or the first records are gone
  | 'SEQUENCE_DISORDER' // records out of order or duplicated (an export edited by hand)
  | 'WRONG_CHAIN' // a record of another chain
  | 'HASH_MISMATCH' // the record's content does not hash to its stored hash: edited or reordered
  | 'CHECKPOINT_MISMATCH' // the chain was rewritten: a signed checkpoint names another hash at this seq
  | 'CHECKPOINT_SIGNATURE_INVALID'
  | 'CHECKPOINT_KEY_UNKNOWN'
  | 'CHECKPOINT_BEYOND_END' // a checkpoint signed a record that no longer exists: records deleted at the end
  | 'CHECKPOINT_CHAIN_BROKEN' // a checkpoint does not cover the one before it: a checkpoint was deleted or replaced
  | 'CHECKPOINT_MISSING' // a checkpoint the verifier knows was made is gone from the store
  | 'HEAD_MISMATCH' // the stored chain head does not match the last record: records deleted at the end
  | 'TRUSTED_TRUNCATED' // the chain ends before a record the trusted file holds
  | 'TRUSTED_DIVERGED' // at a record the trusted file holds, the chain has another hash: rewritten or forked
  | 'TRUSTED_CHECKPOINT_MISSING' // a checkpoint in the trusted file is no longer in the chain's checkpoints
  | 'TRUSTED_INVALID'; // a checkpoint in the trusted file does not verify under the service key

export interface BrokenLink {
  readonly seq: number;
  readonly reason: BreakReason;
  readonly detail: string;
}

export interface ChainReport {
  readonly chain_id: string;
  readonly ok: boolean;
  readonly records: number;
  readonly first_seq: number | null;
  readonly last_seq: number | null;
  readonly checkpoints: number;
  /** Records after the last valid checkpoint: intact as far as the chain shows, but not yet signed. */
  readonly unsigned_tail: number;
  readonly first_broken: BrokenLink | null;
}

export interface VerifyInput {
  readonly chainId: string;
  readonly records: AsyncIterable<AuditRecord> | Iterable<AuditRecord>;
  readonly checkpoints: readonly Checkpoint[];
  readonly composite: CompositeSignature;
  readonly serviceKeys: ReadonlyMap<string, CompositeVerifyingKey>;
  /** The stored chain head, when verifying the store. */
  readonly head?: { readonly seq: number; readonly hash: string } | undefined;
  /** Start at this seq, trusting `startHash` as the hash of record fromSeq-1. */
  readonly fromSeq?: number;
  readonly startHash?: string;
  /** Only records up to this seq (the head read before the records, while others append). */
  readonly toSeq?: number;
  /** Skip the checks of the links between checkpoints (the checkpointer checks them on its own). */
  readonly skipCheckpointLinks?: boolean;
  /** What an earlier export or published checkpoint says about this chain: the chain must extend it. */
  readonly trusted?: readonly TrustedAnchor[];
}

/** A record (seq, hash) the verifier trusts, with the checkpoint that signed it when it came from one. */
export interface TrustedAnchor {
  readonly seq: number;
  readonly hash: string;
  readonly checkpoint?: Checkpoint | undefined;
}

export async function verifyChain(input: VerifyInput): Promise<ChainReport> {
  const fromSeq = input.fromSeq ?? 1;
  const toSeq = input.toSeq ?? Number.MAX_SAFE_INTEGER;
  const sorted = [...input.checkpoints].sort((a, b) => a.seq - b.seq);
  const checkpoints = sorted.filter((c) => c.seq >= fromSeq);
  const linkBreak = input.skipCheckpointLinks ? null : checkpointLinkProblem(sorted);
  const trusted = [...(input.trusted ?? [])].sort((a, b) => a.seq - b.seq);
  let nextCheckpoint = 0;
  let nextTrusted = 0;
  let lastSignedSeq = fromSeq - 1;
  let prevHash = fromSeq === 1 ? GENESIS_HASH : (input.startHash ?? '');
  let expectedSeq = fromSeq;
  let count = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let broken: BrokenLink | null = trustedInvalid(trusted, input) ?? (linkBreak && linkBreak.seq < fromSeq ? linkBreak : null);

  const checkCheckpoint = (cp: Checkpoint, recomputed: string): BrokenLink | null => {
    const problem = checkpointSignatureProblem(cp, input.chainId, input);
    if (problem) return problem;
    if (cp.hash !== recomputed) {
      return {
        seq: cp.seq,
        reason: 'CHECKPOINT_MISMATCH',
        detail: `record ${cp.seq} hashes to ${recomputed.slice(0, 16)}…, the signed checkpoint says ${cp.hash.slice(0, 16)}… (records up to here were rewritten)`,
      };
    }
    return linkBreak?.seq === cp.seq ? linkBreak : null;
  };

  for await (const record of broken ? [] : input.records) {
    if (record.seq > toSeq) break;
    count++;
    firstSeq ??= record.seq;
    lastSeq = record.seq;
    if (record.chain_id !== input.chainId) {
      broken = { seq: record.seq, reason: 'WRONG_CHAIN', detail: `record ${record.seq} belongs to chain ${record.chain_id}` };
      break;
    }
    if (record.seq !== expectedSeq) {
      broken =
        record.seq > expectedSeq
          ? {
              seq: expectedSeq,
              reason: 'SEQUENCE_GAP',
              detail: expectedSeq === record.seq - 1 ? `record ${expectedSeq} is missing` : `records ${expectedSeq}–${record.seq - 1} are missing`,
            }
          : { seq: record.seq, reason: 'SEQUENCE_DISORDER', detail: `record ${record.seq} appears after record ${expectedSeq - 1}` };
      break;
    }
    const recomputed = safeRecordHash(prevHash, record);
    if (recomputed === undefined || recomputed !== record.hash) {
      broken = {
        seq: record.seq,
        reason: 'HASH_MISMATCH',
        detail: `record ${record.seq} does not match its hash (edited, reordered, or its predecessor changed)`,
      };
      break;
    }
    while (nextTrusted < trusted.length && (trusted[nextTrusted] as TrustedAnchor).seq <= record.seq) {
      const anchor = trusted[nextTrusted] as TrustedAnchor;
      nextTrusted++;
      if (anchor.seq === record.seq && anchor.hash !== recomputed) {
        broken = {
          seq: record.seq,
          reason: 'TRUSTED_DIVERGED',
          detail: `record ${record.seq} hashes to ${recomputed.slice(0, 16)}…, the trusted file says ${anchor.hash.slice(0, 16)}… (the chain was rewritten or forked since)`,
        };
        break;
      }
    }
    if (broken) break;
    while (nextCheckpoint < checkpoints.length && (checkpoints[nextCheckpoint] as Checkpoint).seq === record.seq) {
      broken = checkCheckpoint(checkpoints[nextCheckpoint] as Checkpoint, recomputed);
      nextCheckpoint++;
      if (broken) break;
      lastSignedSeq = record.seq;
    }
    if (broken) break;
    prevHash = recomputed;
    expectedSeq++;
  }

  if (!broken && nextTrusted < trusted.length) {
    const anchor = trusted[trusted.length - 1] as TrustedAnchor;
    broken = {
      seq: expectedSeq,
      reason: 'TRUSTED_TRUNCATED',
      detail: `the trusted file holds record ${anchor.seq}, but the chain ends at ${expectedSeq - 1} (records deleted at the end)`,
    };
  }
  if (!broken) broken = trustedCheckpointMissing(trusted, input);
  if (!broken && nextCheckpoint < checkpoints.length) {
    const cp = checkpoints[nextCheckpoint] as Checkpoint;
    broken = {
      seq: cp.seq,
      reason: 'CHECKPOINT_BEYOND_END',
      detail: `a checkpoint signed record ${cp.seq}, but the chain ends at ${expectedSeq - 1} (records deleted at the end)`,
    };
  }
  if (!broken && input.head && (input.head.seq !== expectedSeq - 1 || (expectedSeq > fromSeq && input.head.hash !== prevHash))) {
    broken = {
      seq: Math.min(input.head.seq, expectedSeq),
      reason: 'HEAD_MISMATCH',
      detail: `the chain head says record ${input.head.seq}, the records end at ${expectedSeq - 1} (records deleted at the end, or the head was edited)`,
    };
  }
  return {
    chain_id: input.chainId,
    ok: broken === null,
    records: count,
    first_seq: firstSeq,
    last_seq: lastSeq,
    checkpoints: checkpoints.length,
    unsigned_tail: broken ? 0 : Math.max(0, expectedSeq - 1 - lastSignedSeq),
    first_broken: broken,
  };
}

/** A trusted checkpoint that does not verify under the service key: the trusted file proves nothing. */
function trustedInvalid(trusted: readonly TrustedAnchor[], input: VerifyInput): BrokenLink | null {
  for (const anchor of trusted) {
    const cp = anchor.checkpoint;
    if (!cp) continue;
    const problem = checkpointSignatureProblem(cp, input.chainId, input);
    if (problem) return { seq: cp.seq, reason: 'TRUSTED_INVALID', detail: `the trusted checkpoint at seq ${cp.seq} does not verify: ${problem.detail}` };
  }
  return null;
}

/** The records extend the trusted file, but a checkpoint it holds was deleted from the chain's checkpoints. */
function trustedCheckpointMissing(trusted: readonly TrustedAnchor[], input: VerifyInput): BrokenLink | null {
  for (const anchor of trusted) {
    const cp = anchor.checkpoint;
    if (cp && !input.checkpoints.some((c) => sameCheckpoint(c, cp))) {
      return {
        seq: cp.seq,
        reason: 'TRUSTED_CHECKPOINT_MISSING',
        detail: `the trusted checkpoint at seq ${cp.seq} is no longer among the chain's checkpoints (deleted or replaced)`,
      };
    }
  }
  return null;
}

/** undefined when the record is not even well-formed (a field missing or of the wrong type). */
function safeRecordHash(prevHash: string, record: AuditRecord): string | undefined {
  try {
    return /^[0-9a-f]{64}$/.test(prevHash) ? recordHash(prevHash, record) : undefined;
  } catch {
    return undefined;
  }
}

import { utf8 } from '../crypto/bytes.js';
import type { CompositeSignature, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { checkpointMessage, type Checkpoint } from './checkpoints.js';
import { GENESIS_HASH, recordHash, type AuditRecord } from './record.js';
import { CHECKPOINT_CONTEXT } from './service-key.js';

/**
 * Recomputes one chain and checks its checkpoints; the same code serves the store (`pqseal audit
 * verify`) and an exported file (`--file`). It stops at the first broken link and says where.
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
  | 'HEAD_MISMATCH'; // the stored chain head does not match the last record: records deleted at the end

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
}

export async function verifyChain(input: VerifyInput): Promise<ChainReport> {
  const fromSeq = input.fromSeq ?? 1;
  const context = utf8.encode(CHECKPOINT_CONTEXT);
  const checkpoints = [...input.checkpoints].filter((c) => c.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
  let nextCheckpoint = 0;
  let lastSignedSeq = fromSeq - 1;
  let prevHash = fromSeq === 1 ? GENESIS_HASH : (input.startHash ?? '');
  let expectedSeq = fromSeq;
  let count = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let broken: BrokenLink | null = null;

  const checkCheckpoint = (cp: Checkpoint, recomputed: string): BrokenLink | null => {
    const key = input.serviceKeys.get(cp.key_id);
    if (!key) return { seq: cp.seq, reason: 'CHECKPOINT_KEY_UNKNOWN', detail: `checkpoint at seq ${cp.seq} is signed by unknown key ${cp.key_id}` };
    const signature = new Uint8Array(Buffer.from(cp.signature, 'base64url'));
    if (cp.chain_id !== input.chainId || !input.composite.verify(key, checkpointMessage(cp), signature, context)) {
      return { seq: cp.seq, reason: 'CHECKPOINT_SIGNATURE_INVALID', detail: `the signature of the checkpoint at seq ${cp.seq} does not verify` };
    }
    if (cp.hash !== recomputed) {
      return { seq: cp.seq, reason: 'CHECKPOINT_MISMATCH', detail: `record ${cp.seq} hashes to ${recomputed.slice(0, 16)}…, the signed checkpoint says ${cp.hash.slice(0, 16)}… (records up to here were rewritten)` };
    }
    return null;
  };

  for await (const record of input.records) {
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
          ? { seq: expectedSeq, reason: 'SEQUENCE_GAP', detail: expectedSeq === record.seq - 1 ? `record ${expectedSeq} is missing` : `records ${expectedSeq}–${record.seq - 1} are missing` }
          : { seq: record.seq, reason: 'SEQUENCE_DISORDER', detail: `record ${record.seq} appears after record ${expectedSeq - 1}` };
      break;
    }
    const recomputed = safeRecordHash(prevHash, record);
    if (recomputed === undefined || recomputed !== record.hash) {
      broken = { seq: record.seq, reason: 'HASH_MISMATCH', detail: `record ${record.seq} does not match its hash (edited, reordered, or its predecessor changed)` };
      break;
    }
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

  if (!broken && nextCheckpoint < checkpoints.length) {
    const cp = checkpoints[nextCheckpoint] as Checkpoint;
    broken = { seq: cp.seq, reason: 'CHECKPOINT_BEYOND_END', detail: `a checkpoint signed record ${cp.seq}, but the chain ends at ${expectedSeq - 1} (records deleted at the end)` };
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

/** undefined when the record is not even well-formed (a field missing or of the wrong type). */
function safeRecordHash(prevHash: string, record: AuditRecord): string | undefined {
  try {
    return /^[0-9a-f]{64}$/.test(prevHash) ? recordHash(prevHash, record) : undefined;
  } catch {
    return undefined;
  }
}

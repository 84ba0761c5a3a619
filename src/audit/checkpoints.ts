import { createHash } from 'node:crypto';
import { utf8 } from '../crypto/bytes.js';
import { canonicalJson } from './canonical-json.js';

/**
 * Signed checkpoints: the service signs a chain head with its composite key, so an exported chain can
 * be checked offline against the published service key, and a chain rewritten from some record on
 * (hashes recomputed) no longer matches what was signed. Format 2 checkpoints are chained: each signs
 * the hash of the chain's previous checkpoint, so a checkpoint deleted from the middle is visible.
 *
 *   format 1: message = UTF-8( JCS({"chain_id","hash","key_id","seq","signed_at","type":"pqseal-audit-checkpoint-v1"}) )
 *   format 2: message = UTF-8( JCS({"chain_id","hash","key_id","prev","seq","signed_at","type":"pqseal-audit-checkpoint-v2"}) )
 *   signature      = Composite-ML-DSA-65+Ed25519.Sign(sk_service, message, ctx = "pqseal-audit-checkpoint-v1")
 *   checkpoint hash = SHA-256(message), hex — what the next checkpoint's `prev` names
 *
 * `seq` is the number of records the checkpoint covers (records 1…seq: seq has no gaps).
 */

export const CHECKPOINT_TYPE_V1 = 'pqseal-audit-checkpoint-v1';
export const CHECKPOINT_TYPE_V2 = 'pqseal-audit-checkpoint-v2';

export type CheckpointFormat = 1 | 2;

export interface Checkpoint {
  readonly chain_id: string;
  readonly seq: number;
  readonly hash: string;
  readonly signed_at: string;
  readonly key_id: string;
  readonly format: CheckpointFormat;
  /** Hash of the chain's previous checkpoint (format 2; null for a chain's first, and always for format 1). */
  readonly prev: string | null;
  /** base64url, no padding */
  readonly signature: string;
}

export type UnsignedCheckpoint = Omit<Checkpoint, 'signature'>;

export function checkpointMessage(cp: UnsignedCheckpoint): Uint8Array {
  const common = { chain_id: cp.chain_id, seq: cp.seq, hash: cp.hash, signed_at: cp.signed_at, key_id: cp.key_id };
  return utf8.encode(canonicalJson(cp.format === 2 ? { type: CHECKPOINT_TYPE_V2, ...common, prev: cp.prev } : { type: CHECKPOINT_TYPE_V1, ...common }));
}

export function checkpointHash(cp: UnsignedCheckpoint): string {
  return createHash('sha256').update(checkpointMessage(cp)).digest('hex');
}

/** The same checkpoint (a signature is randomised, so equal signatures mean the very same signing). */
export function sameCheckpoint(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.chain_id === b.chain_id &&
    a.seq === b.seq &&
    a.hash === b.hash &&
    a.signed_at === b.signed_at &&
    a.key_id === b.key_id &&
    a.format === b.format &&
    a.prev === b.prev &&
    a.signature === b.signature
  );
}

/**
 * A checkpoint as read from a file (export, sink, a published line): format 1 lines written before
 * checkpoints were chained carry neither `format` nor `prev`. Undefined when it is not a checkpoint.
 */
export function checkpointFromJson(value: Record<string, unknown>): Checkpoint | undefined {
  const { chain_id, seq, hash, signed_at, key_id, signature } = value;
  const format = value.format ?? 1;
  const prev = value.prev ?? null;
  if (typeof chain_id !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof hash !== 'string') return undefined;
  if (typeof signed_at !== 'string' || typeof key_id !== 'string' || typeof signature !== 'string') return undefined;
  if ((format !== 1 && format !== 2) || (prev !== null && typeof prev !== 'string')) return undefined;
  return { chain_id, seq, hash, signed_at, key_id, format, prev, signature };
}

/** The wire form of a stored row. */
export function checkpointFromRow(r: {
  chain_id: string;
  seq: number;
  hash: string;
  signed_at: number;
  key_id: string;
  signature: Uint8Array;
  format: number;
  prev: string | null;
}): Checkpoint {
  return {
    chain_id: r.chain_id,
    seq: Number(r.seq),
    hash: r.hash,
    signed_at: new Date(Number(r.signed_at)).toISOString(),
    key_id: r.key_id,
    format: Number(r.format) === 2 ? 2 : 1,
    prev: r.prev,
    signature: Buffer.from(r.signature).toString('base64url'),
  };
}

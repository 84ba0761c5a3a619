import type { PermissionGrant } from '../envelope/index.js';
import type { SignatureCheck, SignatureInput } from '../envelope/open.js';
import type { ContentType } from '@pqseal/sdk/envelope';
import type { JsonRoom } from './results.js';

/**
 * Messages between the request handlers and the crypto worker pool. Keys travel by id with their
 * wrapped secret; workers unwrap and expand each key once and keep it. Errors come back as values
 * because custom error classes do not survive the thread boundary.
 */

export interface WrappedSecretRef {
  readonly keyId: string;
  readonly wrappedSecret: Uint8Array;
}

export interface SealRecipientRef {
  readonly orgId: string;
  readonly kemKeyId: string;
  readonly publicKey: Uint8Array;
}

export interface SealSignerRef {
  readonly orgId: string;
  readonly displayName: string;
  readonly key: WrappedSecretRef;
}

/**
 * Several seals to one recipient key with one signer (or none), sealed as one v2 batch: one X-Wing
 * encapsulation and, signed, one Merkle-batch signature (src/envelope/seal-batch.ts). Each item's
 * JSON gets the room its own caller asked for.
 */
export interface SealBatchTask {
  readonly op: 'seal-batch';
  readonly items: readonly { readonly plaintext: string; readonly permissions: readonly PermissionGrant[]; readonly room: JsonRoom }[];
  readonly recipient: SealRecipientRef;
  readonly signer?: SealSignerRef | undefined;
}

export interface OpenTask {
  readonly op: 'open';
  readonly envelope: string;
  readonly kemKey: WrappedSecretRef;
  /** false for plain decrypt: a signed envelope's signature is then not checked. */
  readonly verify: boolean;
  readonly room: JsonRoom;
}

/**
 * A decrypted envelope whose signer key the worker did not hold: everything its signature check
 * needs, so that check never decrypts again. `plaintext` is a buffer of its own, moved between threads.
 */
export interface PendingSignature {
  readonly contentType: ContentType;
  readonly envelopeId: string;
  readonly plaintext: Uint8Array;
  /** The signature as the envelope claims it (status `invalid`, reason `SIGNER_KEY_UNKNOWN` until checked). */
  readonly claimed: Extract<SignatureCheck, { status: 'valid' | 'invalid' }>;
  /** What σ covers, rebuilt from the decrypted envelope: M (v1) or M_root (v2), with its context and memo key. */
  readonly input: SignatureInput;
}

/** Second step of a decrypt-verify: check the pending signature with the key the store gave (null: no such key). */
export interface VerifyTask {
  readonly op: 'verify';
  readonly pending: PendingSignature;
  readonly signerPublicKey: Uint8Array | null;
  readonly room: JsonRoom;
}

/** Several opens in one task (the batch API); each item fails alone. */
export interface OpenBatchTask {
  readonly op: 'open-batch';
  readonly items: readonly Omit<OpenTask, 'op'>[];
}

export type CryptoTask = SealBatchTask | OpenTask | OpenBatchTask | VerifyTask;

export interface TaskError {
  readonly kind: 'error';
  readonly code: string;
  readonly message: string;
}

/**
 * A finished result: `json` is the result object's JSON as UTF-8, moved — not copied — from the
 * worker, inside a buffer with the room the task asked for around it.
 */
export interface JsonResult {
  readonly json: Uint8Array;
  readonly envelopeId: string;
}

export type SealResult = ({ readonly kind: 'sealed' } & JsonResult) | TaskError;

/** One result per item of a SealBatchTask, in order; every item's JSON buffer is moved, not copied. */
export interface SealBatchResult {
  readonly kind: 'sealed-batch';
  readonly results: readonly SealResult[];
}

export type OpenResult =
  | ({ readonly kind: 'opened' } & JsonResult)
  /** decrypt-verify of an envelope made by encrypt: no plaintext leaves the worker. */
  | { readonly kind: 'not-signed'; readonly envelopeId: string }
  | { readonly kind: 'need-signer-key'; readonly pending: PendingSignature }
  | TaskError;

export interface OpenBatchResult {
  readonly kind: 'opened-batch';
  readonly results: readonly OpenResult[];
}

export type VerifyResult = ({ readonly kind: 'opened' } & JsonResult) | TaskError;

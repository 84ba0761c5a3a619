import type { PermissionGrant } from '../envelope/index.js';
import type { SignatureCheck } from '../envelope/open.js';
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

export interface SealTask {
  readonly op: 'seal';
  readonly plaintext: string;
  readonly recipient: { readonly orgId: string; readonly kemKeyId: string; readonly publicKey: Uint8Array };
  readonly signer?: { readonly orgId: string; readonly displayName: string; readonly key: WrappedSecretRef } | undefined;
  readonly permissions: readonly PermissionGrant[];
  /** Free bytes to leave around the result's JSON (src/core/results.ts). */
  readonly room: JsonRoom;
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
  /** The signed message M of docs/envelope.md §Signature, rebuilt from the decrypted envelope. */
  readonly message: Uint8Array;
}

/** Second step of a decrypt-verify: check the pending signature with the key the store gave (null: no such key). */
export interface VerifyTask {
  readonly op: 'verify';
  readonly pending: PendingSignature;
  readonly signerPublicKey: Uint8Array | null;
  readonly room: JsonRoom;
}

export type CryptoTask = SealTask | OpenTask | VerifyTask;

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

export type OpenResult =
  | ({ readonly kind: 'opened' } & JsonResult)
  /** decrypt-verify of an envelope made by encrypt: no plaintext leaves the worker. */
  | { readonly kind: 'not-signed'; readonly envelopeId: string }
  | { readonly kind: 'need-signer-key'; readonly pending: PendingSignature }
  | TaskError;

export type VerifyResult = ({ readonly kind: 'opened' } & JsonResult) | TaskError;

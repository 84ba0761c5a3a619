import type { PermissionGrant } from '../envelope/index.js';
import type { JsonFrame } from './responses.js';

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
  /** The JSON text around the answer object (the worker answers with the response body itself). */
  readonly frame: JsonFrame;
}

export interface OpenTask {
  readonly op: 'open';
  readonly envelope: string;
  readonly kemKey: WrappedSecretRef;
  /** false for plain decrypt: a signed envelope's signature is then not checked. */
  readonly verify: boolean;
  readonly frame: JsonFrame;
  /** The answer to a previous `need-signer-key`: the key, or null when that organisation has no such key. */
  readonly signerPublicKey?: { readonly orgId: string; readonly keyId: string; readonly publicKey: Uint8Array | null } | undefined;
}

export interface CeilingTask {
  readonly op: 'ceiling-seal' | 'ceiling-open';
  readonly size: number;
}

export type CryptoTask = SealTask | OpenTask | CeilingTask;

export interface TaskError {
  readonly kind: 'error';
  readonly code: string;
  readonly message: string;
}

/**
 * A finished answer: `json` is the response body (frame + answer object) as UTF-8, moved — not copied —
 * from the worker, which spares the event loop copying, escaping and re-encoding a payload-sized string.
 */
export interface JsonAnswer {
  readonly json: Uint8Array;
  readonly envelopeId: string;
}

export type SealResult = ({ readonly kind: 'sealed' } & JsonAnswer) | TaskError;

export type OpenResult =
  | ({ readonly kind: 'opened' } & JsonAnswer)
  /** decrypt-verify of an envelope made by encrypt: no plaintext leaves the worker. */
  | { readonly kind: 'not-signed'; readonly envelopeId: string }
  | { readonly kind: 'need-signer-key'; readonly orgId: string; readonly keyId: string }
  | TaskError;

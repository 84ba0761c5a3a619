import type { PermissionGrant, SignatureCheck } from '../envelope/index.js';

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
  /** The JSON text around the envelope's members in the response (see `JsonFrame`). */
  readonly frame: JsonFrame;
}

/**
 * The worker answers a seal with the response body itself: `prefix` + `"encrypted_data":"…","envelope_id":"…"`
 * + `suffix`, as UTF-8 bytes moved (not copied) to the main thread. At 1 MiB this spares the event loop
 * a 1.4 MB string copy, JSON escaping (base64url and hex never need it) and UTF-8 encoding.
 */
export interface JsonFrame {
  readonly prefix: string;
  readonly suffix: string;
}

export interface OpenTask {
  readonly op: 'open';
  readonly envelope: string;
  readonly kemKey: WrappedSecretRef;
  /** false for plain decrypt: a signed envelope's signature is then not checked. */
  readonly verify: boolean;
  /** The answer to a previous `need-signer-key`: the key, or null when no such key exists. */
  readonly signerPublicKey?: { readonly keyId: string; readonly publicKey: Uint8Array | null } | undefined;
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

export type SealResult = { readonly kind: 'sealed'; readonly json: Uint8Array; readonly envelopeId: string; readonly createdAt: string } | TaskError;

export type OpenResult =
  | {
      readonly kind: 'opened';
      readonly text: string | undefined;
      readonly bytes: Uint8Array | undefined;
      readonly envelopeId: string;
      readonly createdAt: string;
      readonly signature: SignatureCheck | { readonly status: 'unchecked' };
    }
  | { readonly kind: 'need-signer-key'; readonly orgId: string; readonly keyId: string }
  | TaskError;

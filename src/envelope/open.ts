import {
  BATCH_SIGNATURE_CONTEXT,
  ENVELOPE_SIGNATURE_CONTEXT,
  EnvelopeError,
  batchSignedRootMessage,
  bytesToHex,
  decodeInner,
  formatMicros,
  inspectEnvelope,
  signedMessage,
  type BatchProof,
  type EnvelopeHeader,
  type ParsedEnvelope,
} from '@pqseal/sdk/envelope';
import { aesGcmOpen } from '../crypto/aes-gcm.js';
import type { CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { sha256, sha512 } from '../crypto/hash.js';
import type { CryptoProviders } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { deriveAeadKey } from './key-schedule.js';

/** A bounded memo the caller keeps across envelopes (src/envelope/memo.ts). */
export interface Memo<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
}

export interface OpenKeys {
  /** The recipient's expanded X-Wing key for (owner org, KEM key id), or undefined if not held. */
  readonly kemKey: (ownerOrgId: string, kemKeyId: string) => XWingExpandedKey | undefined;
  /** The signer's published composite key for (org, key id), or undefined if unknown. */
  readonly signerKey: (orgId: string, keyId: string) => CompositeVerifyingKey | undefined;
  /**
   * Shared secrets by (KEM key id, SHA-256 of the KEM ciphertext): the envelopes of one v2 batch share
   * an encapsulation, so they pay for one decapsulation.
   */
  readonly sharedSecrets?: Memo<Uint8Array> | undefined;
  /** Batch roots whose signature verified, by `SignatureInput.memoKey`: a batch pays for one signature check. */
  readonly verifiedRoots?: Memo<true> | undefined;
}

/** What a signature check needs: the message σ covers and its context (M for v1, M_root for v2). */
export interface SignatureInput {
  readonly message: Uint8Array;
  readonly context: Uint8Array;
  /** v2: identifies (signer, signed root) in `OpenKeys.verifiedRoots`. */
  readonly memoKey?: string | undefined;
}

export type SignatureCheck =
  | { readonly status: 'absent' }
  | {
      readonly status: 'valid' | 'invalid';
      /** Why an invalid signature did not hold. */
      readonly reason?: 'SIGNATURE_MISMATCH' | 'SIGNER_KEY_UNKNOWN' | undefined;
      readonly signerOrgId: string;
      readonly signerKeyId: string;
      readonly signerName: string;
      readonly signedAt: string;
      readonly signature: Uint8Array;
      /** v2: the envelope's inclusion proof in its batch. */
      readonly batch?: BatchProof | undefined;
    };

export interface OpenedEnvelope {
  readonly header: EnvelopeHeader;
  readonly envelopeId: string;
  readonly createdAt: string;
  readonly plaintext: Uint8Array;
  readonly signature: SignatureCheck;
  /** Present for signed envelopes: the input of the signature check (for a check done later elsewhere). */
  readonly signatureInput?: SignatureInput | undefined;
}

/**
 * Decrypts and, for signed envelopes, verifies. Plaintext is only returned after the AEAD tag
 * verified; every failure is an EnvelopeError with a stable code.
 */
export function open(providers: CryptoProviders, envelope: string | ParsedEnvelope, keys: OpenKeys): OpenedEnvelope {
  const parsed = typeof envelope === 'string' ? inspectEnvelope(envelope) : envelope;
  const { header } = parsed;
  const kemKey = keys.kemKey(header.ownerOrgId, header.kemKeyId);
  if (!kemKey) throw new EnvelopeError('KEY_NOT_FOUND', 'no decryption key for this envelope');

  const inner = decrypt(providers, parsed, kemKey, keys.sharedSecrets);
  const { signed, payload } = decodeInner(inner, header.version);
  const base = {
    header,
    envelopeId: bytesToHex(header.envelopeId),
    createdAt: formatMicros(header.createdAtMicros),
    plaintext: payload,
  };
  if (!signed) return { ...base, signature: { status: 'absent' } };

  const claimed = {
    signerOrgId: signed.signer.orgId,
    signerKeyId: signed.signer.keyId,
    signerName: signed.signer.displayName,
    signedAt: base.createdAt,
    signature: signed.signature,
    batch: signed.batch,
  };
  const headerBytes = parsed.aad.subarray(0, parsed.aad.length - parsed.kemCipherText.length);
  const message = signedMessage(headerBytes, signed.signer, sha512(payload), header.version);
  const signatureInput = signed.batch ? batchInput(message, signed.batch, claimed) : { message, context: ENVELOPE_SIGNATURE_CONTEXT };
  const opened = { ...base, signatureInput };
  if (!signatureInput) return { ...opened, signature: { status: 'invalid', reason: 'SIGNATURE_MISMATCH', ...claimed } };
  const verifyingKey = keys.signerKey(signed.signer.orgId, signed.signer.keyId);
  if (!verifyingKey) return { ...opened, signature: { status: 'invalid', reason: 'SIGNER_KEY_UNKNOWN', ...claimed } };
  const ok = verifySignature(providers, verifyingKey, signatureInput, signed.signature, keys.verifiedRoots);
  return { ...opened, signature: ok ? { status: 'valid', ...claimed } : { status: 'invalid', reason: 'SIGNATURE_MISMATCH', ...claimed } };
}

/** M_root of a v2 envelope, or undefined when its path cannot lead to a root of that batch size. */
function batchInput(message: Uint8Array, proof: BatchProof, signer: { signerOrgId: string; signerKeyId: string }): SignatureInput | undefined {
  const rootMessage = batchSignedRootMessage(sha256, message, proof);
  if (!rootMessage) return undefined;
  return {
    message: rootMessage,
    context: BATCH_SIGNATURE_CONTEXT,
    memoKey: `${signer.signerOrgId}\u0000${signer.signerKeyId}\u0000${bytesToHex(rootMessage)}`,
  };
}

/**
 * Checks σ over the signature input. A v2 root that verified before under the same signer key and
 * signature is not checked again: the memo key holds the signer and M_root, and the signature must be
 * the very one that verified (a different σ for the same root is checked in full).
 */
export function verifySignature(
  providers: CryptoProviders,
  key: CompositeVerifyingKey,
  input: SignatureInput,
  signature: Uint8Array,
  verifiedRoots: Memo<true> | undefined,
): boolean {
  const memoKey = input.memoKey && verifiedRoots ? `${input.memoKey}\u0000${bytesToHex(sha256(signature))}` : undefined;
  if (memoKey && verifiedRoots?.get(memoKey)) return true;
  const ok = providers.composite.verify(key, input.message, signature, input.context);
  if (ok && memoKey) verifiedRoots?.set(memoKey, true);
  return ok;
}

function decrypt(providers: CryptoProviders, parsed: ParsedEnvelope, kemKey: XWingExpandedKey, sharedSecrets: Memo<Uint8Array> | undefined): Uint8Array {
  const { header } = parsed;
  try {
    const sharedSecret = decapsulate(providers, parsed, kemKey, sharedSecrets);
    const { key, nonce } = deriveAeadKey(sharedSecret, header.envelopeId, header.version, header.suite);
    return aesGcmOpen(key, nonce, parsed.aeadCipherText, parsed.aad);
  } catch {
    // A wrong recipient, a flipped bit or a low-order X25519 point all end here, indistinguishably.
    throw new EnvelopeError('ENVELOPE_AUTH_FAILED', 'envelope authentication failed');
  }
}

function decapsulate(providers: CryptoProviders, parsed: ParsedEnvelope, kemKey: XWingExpandedKey, sharedSecrets: Memo<Uint8Array> | undefined): Uint8Array {
  if (!sharedSecrets) return providers.xWing.decapsulate(parsed.kemCipherText, kemKey);
  const memoKey = `${parsed.header.kemKeyId}\u0000${bytesToHex(sha256(parsed.kemCipherText))}`;
  let sharedSecret = sharedSecrets.get(memoKey);
  if (!sharedSecret) {
    sharedSecret = providers.xWing.decapsulate(parsed.kemCipherText, kemKey);
    sharedSecrets.set(memoKey, sharedSecret);
  }
  return sharedSecret;
}

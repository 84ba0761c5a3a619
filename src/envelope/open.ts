import {
  ENVELOPE_SIGNATURE_CONTEXT,
  EnvelopeError,
  bytesToHex,
  decodeInner,
  formatMicros,
  inspectEnvelope,
  signedMessage,
  type EnvelopeHeader,
  type ParsedEnvelope,
} from '@pqseal/sdk/envelope';
import { aesGcmOpen } from '../crypto/aes-gcm.js';
import type { CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { sha512 } from '../crypto/hash.js';
import type { CryptoProviders } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { deriveAeadKey } from './key-schedule.js';

export interface OpenKeys {
  /** The recipient's expanded X-Wing key for (owner org, KEM key id), or undefined if not held. */
  readonly kemKey: (ownerOrgId: string, kemKeyId: string) => XWingExpandedKey | undefined;
  /** The signer's published composite key for (org, key id), or undefined if unknown. */
  readonly signerKey: (orgId: string, keyId: string) => CompositeVerifyingKey | undefined;
}

export type SignatureCheck =
  | { readonly status: 'absent' }
  | {
      readonly status: 'valid' | 'invalid';
      /** Why an invalid signature did not hold. */
      readonly reason?: 'SIGNATURE_MISMATCH' | 'SIGNER_KEY_UNKNOWN';
      readonly signerOrgId: string;
      readonly signerKeyId: string;
      readonly signerName: string;
      readonly signedAt: string;
      readonly signature: Uint8Array;
    };

export interface OpenedEnvelope {
  readonly header: EnvelopeHeader;
  readonly envelopeId: string;
  readonly createdAt: string;
  readonly plaintext: Uint8Array;
  readonly signature: SignatureCheck;
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

  const inner = decrypt(providers, parsed, kemKey);
  const { signed, payload } = decodeInner(inner);
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
  };
  const verifyingKey = keys.signerKey(signed.signer.orgId, signed.signer.keyId);
  if (!verifyingKey) return { ...base, signature: { status: 'invalid', reason: 'SIGNER_KEY_UNKNOWN', ...claimed } };
  const headerBytes = parsed.aad.subarray(0, parsed.aad.length - parsed.kemCipherText.length);
  const message = signedMessage(headerBytes, signed.signer, sha512(payload));
  const ok = providers.composite.verify(verifyingKey, message, signed.signature, ENVELOPE_SIGNATURE_CONTEXT);
  return { ...base, signature: ok ? { status: 'valid', ...claimed } : { status: 'invalid', reason: 'SIGNATURE_MISMATCH', ...claimed } };
}

function decrypt(providers: CryptoProviders, parsed: ParsedEnvelope, kemKey: XWingExpandedKey): Uint8Array {
  const { header } = parsed;
  try {
    const sharedSecret = providers.xWing.decapsulate(parsed.kemCipherText, kemKey);
    const { key, nonce } = deriveAeadKey(sharedSecret, header.envelopeId, header.version, header.suite);
    return aesGcmOpen(key, nonce, parsed.aeadCipherText, parsed.aad);
  } catch {
    // A wrong recipient, a flipped bit or a low-order X25519 point all end here, indistinguishably.
    throw new EnvelopeError('ENVELOPE_AUTH_FAILED', 'envelope authentication failed');
  }
}

import { aesGcmOpen } from '../crypto/aes-gcm.js';
import { bytesToHex } from '../crypto/bytes.js';
import type { CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { sha512 } from '../crypto/hash.js';
import type { CryptoProviders } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { decodeBase64Url } from './base64url.js';
import { EnvelopeError, malformed } from './errors.js';
import { parseEnvelopeBytes, parseEnvelopeHeader, type EnvelopeHeader, type ParsedEnvelope } from './format.js';
import { decodeInner } from './inner.js';
import { deriveAeadKey } from './key-schedule.js';
import { MAX_ENVELOPE_CHARS, MAX_PERMISSION_BYTES } from './limits.js';
import { ENVELOPE_SIGNATURE_CONTEXT, signedMessage } from './signed-message.js';
import { formatMicros } from './timestamp.js';

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

/** Decodes and parses without decrypting; the header is NOT authenticated until `open` succeeds. */
export function inspectEnvelope(envelope: string): ParsedEnvelope {
  if (typeof envelope !== 'string') throw malformed('not a string');
  if (envelope.length > MAX_ENVELOPE_CHARS) throw new EnvelopeError('ENVELOPE_TOO_LARGE', 'envelope exceeds the size limit');
  return parseEnvelopeBytes(decodeBase64Url(envelope), MAX_PERMISSION_BYTES);
}

/** Characters of envelope text decoded to read a header: 3 KiB of bytes, room for long permission lists. */
const HEADER_PROBE_CHARS = 4096;

/**
 * The header alone (NOT authenticated), decoding no more of the text than it needs: the service
 * decides access on it before handing the envelope to a worker, which decodes and checks all of it.
 * At 1 MiB that spares the event loop a 1.4 MB base64 decode. A header longer than the probe, or a
 * probe that does not parse, is decided on the whole text, so errors are the same as `inspectEnvelope`'s.
 */
export function inspectEnvelopeHeader(envelope: string): EnvelopeHeader {
  if (typeof envelope === 'string' && envelope.length > HEADER_PROBE_CHARS && envelope.length <= MAX_ENVELOPE_CHARS) {
    try {
      return parseEnvelopeHeader(decodeBase64Url(envelope.slice(0, HEADER_PROBE_CHARS)), MAX_PERMISSION_BYTES);
    } catch (e) {
      if (!(e instanceof EnvelopeError)) throw e;
    }
  }
  return inspectEnvelope(envelope).header;
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

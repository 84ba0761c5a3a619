import { concatBytes, utf8 } from '../crypto/bytes.js';
import { hkdfSha256 } from '../crypto/hkdf.js';

const AEAD_INFO = utf8.encode('pqseal-envelope-v1 aead key+nonce');

/**
 * AEAD key and nonce from the KEM shared secret: HKDF-SHA-256(ikm = ss, salt = envelope id,
 * info = label || version || suite), 44 bytes → key (32) || nonce (12). Every envelope has a fresh
 * encapsulation, so each key encrypts exactly one message and a derived nonce is safe.
 */
export function deriveAeadKey(sharedSecret: Uint8Array, envelopeId: Uint8Array, version: number, suite: number) {
  const okm = hkdfSha256(sharedSecret, envelopeId, concatBytes(AEAD_INFO, new Uint8Array([version, suite])), 44);
  return { key: okm.subarray(0, 32), nonce: okm.subarray(32, 44) };
}

import { randomBytes } from 'node:crypto';
import { AES_GCM_NONCE_LENGTH, aesGcmOpen, aesGcmSeal } from './aes-gcm.js';
import { concatBytes, utf8 } from './bytes.js';

/**
 * Private-key wrapping: AES-256-GCM under a 32-byte master key with the key id as associated data,
 * so a wrapped key cannot be swapped to another key id. Output: nonce (12) || ciphertext || tag (16).
 */

export const MASTER_KEY_LENGTH = 32;

export function wrapKey(masterKey: Uint8Array, keyId: string, secret: Uint8Array): Uint8Array {
  assertMasterKey(masterKey);
  const nonce = randomBytes(AES_GCM_NONCE_LENGTH);
  return concatBytes(nonce, aesGcmSeal(masterKey, nonce, [secret], aad(keyId)));
}

/** Throws AeadAuthError on a wrong master key, a wrong key id or a damaged blob. */
export function unwrapKey(masterKey: Uint8Array, keyId: string, wrapped: Uint8Array): Uint8Array {
  assertMasterKey(masterKey);
  return aesGcmOpen(masterKey, wrapped.subarray(0, AES_GCM_NONCE_LENGTH), wrapped.subarray(AES_GCM_NONCE_LENGTH), aad(keyId));
}

function aad(keyId: string): Uint8Array {
  return utf8.encode(`pqseal-key-wrap-v1:${keyId}`);
}

function assertMasterKey(masterKey: Uint8Array): void {
  if (masterKey.length !== MASTER_KEY_LENGTH) throw new RangeError('master key must be 32 bytes');
}

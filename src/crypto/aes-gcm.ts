import { createCipheriv, createDecipheriv } from 'node:crypto';

/** AES-256-GCM (NIST SP 800-38D) from Node's OpenSSL, 96-bit nonce, 128-bit tag. */

export const AES_GCM_TAG_LENGTH = 16;
export const AES_GCM_NONCE_LENGTH = 12;

export class AeadAuthError extends Error {
  constructor() {
    super('AEAD authentication failed');
    this.name = 'AeadAuthError';
  }
}

/**
 * Encrypts the concatenation of `plaintextParts` without first copying them together, and returns
 * `outputPrefix || ciphertext || tag` in one buffer (the envelope puts its header there: one copy
 * of a large payload instead of three).
 */
export function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintextParts: readonly Uint8Array[],
  aad: Uint8Array,
  outputPrefix: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const cipher = createCipheriv(aesName(key), key, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  const chunks: Uint8Array[] = [outputPrefix];
  for (const part of plaintextParts) chunks.push(cipher.update(part));
  chunks.push(cipher.final(), cipher.getAuthTag());
  return view(Buffer.concat(chunks));
}

/**
 * Decrypts `ciphertextWithTag`. Plaintext is only returned after the tag verified, so a caller
 * never sees unauthenticated bytes.
 */
export function aesGcmOpen(key: Uint8Array, nonce: Uint8Array, ciphertextWithTag: Uint8Array, aad: Uint8Array): Uint8Array {
  if (ciphertextWithTag.length < AES_GCM_TAG_LENGTH) throw new AeadAuthError();
  const tagStart = ciphertextWithTag.length - AES_GCM_TAG_LENGTH;
  const decipher = createDecipheriv(aesName(key), key, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertextWithTag.subarray(tagStart));
  const body = decipher.update(ciphertextWithTag.subarray(0, tagStart));
  try {
    const tail = decipher.final();
    return view(tail.length === 0 ? body : Buffer.concat([body, tail]));
  } catch {
    body.fill(0);
    throw new AeadAuthError();
  }
}

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function aesName(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  switch (key.length) {
    case 16:
      return 'aes-128-gcm';
    case 24:
      return 'aes-192-gcm';
    case 32:
      return 'aes-256-gcm';
    default:
      throw new RangeError('AES key must be 16, 24 or 32 bytes');
  }
}

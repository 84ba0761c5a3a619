import { hkdfSync } from 'node:crypto';

/** HKDF-SHA-256 (RFC 5869) from Node's OpenSSL. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

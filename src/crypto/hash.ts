import { createHash, type Hash } from 'node:crypto';

/** Hash functions from Node's OpenSSL (FIPS 180-4, FIPS 202). */

export function sha512(...parts: readonly Uint8Array[]): Uint8Array {
  return digest('sha512', parts);
}

export function sha256(...parts: readonly Uint8Array[]): Uint8Array {
  return digest('sha256', parts);
}

export function sha3_256(...parts: readonly Uint8Array[]): Uint8Array {
  return digest('sha3-256', parts);
}

export function shake256(input: Uint8Array, outputLength: number): Uint8Array {
  const h = createHash('shake256', { outputLength });
  h.update(input);
  return new Uint8Array(h.digest());
}

/** Incremental SHA-512 so large payloads are hashed in one streaming pass. */
export function sha512Stream(): Hash {
  return createHash('sha512');
}

function digest(algorithm: string, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHash(algorithm);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

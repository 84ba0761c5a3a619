import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';

/** X25519 (RFC 7748) from Node's OpenSSL; raw 32-byte keys wrapped in their fixed DER prefixes (RFC 8410). */

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export class X25519Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'X25519Error';
  }
}

export function x25519PrivateKey(secret: Uint8Array): KeyObject {
  if (secret.length !== 32) throw new X25519Error('X25519 secret key must be 32 bytes');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8' });
}

export function x25519PublicKey(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== 32) throw new X25519Error('X25519 public key must be 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
}

/** X25519(secret, 9): the public key for a secret. */
export function x25519Base(secret: Uint8Array | KeyObject): Uint8Array {
  const key = secret instanceof Uint8Array ? x25519PrivateKey(secret) : secret;
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/**
 * X25519(secret, peer). OpenSSL refuses an all-zero result (a low-order peer point, RFC 7748 §6.1),
 * which surfaces here as an X25519Error.
 */
export function x25519(secret: Uint8Array | KeyObject, peerPublic: Uint8Array): Uint8Array {
  const privateKey = secret instanceof Uint8Array ? x25519PrivateKey(secret) : secret;
  try {
    return new Uint8Array(diffieHellman({ privateKey, publicKey: x25519PublicKey(peerPublic) }));
  } catch (cause) {
    throw new X25519Error(`X25519 failed: ${(cause as Error).message}`);
  }
}

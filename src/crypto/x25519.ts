import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

/**
 * X25519 (RFC 7748) from Node's OpenSSL. Peer public keys come in as JWK (RFC 8037), which on
 * OpenSSL 3 is ~10× cheaper than the DER decoders; secrets from seeds (rare: once per key) go through
 * their fixed PKCS#8 prefix (RFC 8410) because a JWK private key also needs the public part.
 *
 * Public keys never come OUT of a KeyObject: they are computed as X25519(k, 9) (RFC 7748 §6.1), the
 * definition itself. Node 20's JWK export of an OKP key holds the key's mutex while it allocates; a
 * garbage collection at that moment can finalize the key-generation job of the same key, whose
 * destructor takes the same mutex — the thread deadlocks (seen under load: a crypto worker, and the
 * benchmark's own thread, asleep forever in ~KeyGenJob called from ExportJWKEdKey; gdb stack in
 * docs/performance.md). The Diffie-Hellman call releases its locks before it allocates.
 */

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

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
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, 32).toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
}

/** The base point u = 9 (RFC 7748 §4.1), as a key to run X25519 against. */
let basePoint: KeyObject | undefined;
function base(): KeyObject {
  if (!basePoint) {
    const u = new Uint8Array(32);
    u[0] = 9;
    basePoint = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(u).toString('base64url') }, format: 'jwk' });
  }
  return basePoint;
}

/** X25519(secret, 9): the public key for a secret. */
export function x25519Base(secret: Uint8Array | KeyObject): Uint8Array {
  const privateKey = secret instanceof Uint8Array ? x25519PrivateKey(secret) : secret;
  return new Uint8Array(diffieHellman({ privateKey, publicKey: base() }));
}

/** A fresh ephemeral key pair (its public half computed, not exported: see above). */
export function x25519Ephemeral(): { secret: KeyObject; publicKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync('x25519');
  return { secret: privateKey, publicKey: x25519Base(privateKey) };
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

import { createHmac, hkdfSync } from 'node:crypto';

/**
 * Redis key names that do not reveal the usernames and addresses they are about: HMAC-SHA-256 under
 * a key derived from the master key (every node has the same one, so every node names a bucket the
 * same way), truncated to 128 bits.
 */
export function keyNamer(masterKey: Uint8Array, prefix: string): (kind: string, key: string) => string {
  const secret = Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), 'pqseal redis key names v1', 32));
  return (kind, key) => `${prefix}${kind}:${createHmac('sha256', secret).update(key, 'utf8').digest().subarray(0, 16).toString('base64url')}`;
}

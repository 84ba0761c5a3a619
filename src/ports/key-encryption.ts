/**
 * Port: the key-encryption service that protects private keys at rest (envelope encryption under a
 * master key). `associatedData` binds a wrapped key to its id, so a wrapped secret moved to another
 * row does not unwrap. Today's adapter: src/keys/master-key.ts (a 32-byte key from PQSEAL_MASTER_KEY
 * or `<DATA_DIR>/master.key`, AES-256-GCM by src/crypto/key-wrap.ts); a KMS adapter (issue 12) plugs
 * in here.
 */
export interface KeyEncryption {
  wrap(secret: Uint8Array, associatedData: string): Uint8Array;
  unwrap(wrapped: Uint8Array, associatedData: string): Uint8Array;
}

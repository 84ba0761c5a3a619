import type { KeyObject } from 'node:crypto';
import { concatBytes } from './bytes.js';
import { sha3_256, shake256 } from './hash.js';
import { ML_KEM_768, type MlKem768 } from './ml-kem-768.js';
import { x25519, x25519Base, x25519Ephemeral, x25519PrivateKey } from './x25519.js';

/**
 * X-Wing hybrid KEM (draft-connolly-cfrg-xwing-kem): ML-KEM-768 + X25519 with the SHA3-256 combiner.
 * The decapsulation key is a 32-byte seed, expanded with SHAKE-256 (§5.2).
 */

export const X_WING = {
  seedLength: 32,
  publicKeyLength: ML_KEM_768.publicKeyLength + 32,
  cipherTextLength: ML_KEM_768.cipherTextLength + 32,
  sharedSecretLength: 32,
  encapsulationSeedLength: 64,
} as const;

/** XWingLabel = "\.//^\" (§5.3). */
const X_WING_LABEL = new Uint8Array([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c]);

export class XWingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XWingError';
  }
}

/** The expanded decapsulation key; cache it, expansion costs an ML-KEM key generation. */
export interface XWingExpandedKey {
  readonly mlKemSecretKey: Uint8Array;
  readonly x25519Secret: KeyObject;
  readonly mlKemPublicKey: Uint8Array;
  readonly x25519Public: Uint8Array;
}

export class XWing {
  constructor(private readonly mlKem: MlKem768) {}

  get implementation(): string {
    return `x-wing(ml-kem-768=${this.mlKem.implementation}, x25519=node:crypto, sha3=node:crypto)`;
  }

  /** expandDecapsulationKey(sk) (§5.2). */
  expand(seed: Uint8Array): XWingExpandedKey {
    if (seed.length !== X_WING.seedLength) throw new XWingError('X-Wing decapsulation key must be 32 bytes');
    const expanded = shake256(seed, 96);
    const { publicKey, secretKey } = this.mlKem.keygenFromSeed(expanded.subarray(0, 64));
    const x25519Secret = expanded.subarray(64, 96);
    return {
      mlKemSecretKey: secretKey,
      mlKemPublicKey: publicKey,
      x25519Secret: x25519PrivateKey(x25519Secret),
      x25519Public: x25519Base(x25519Secret),
    };
  }

  publicKey(expanded: XWingExpandedKey): Uint8Array {
    return concatBytes(expanded.mlKemPublicKey, expanded.x25519Public);
  }

  /**
   * Encapsulate (§5.4). `eseed` (64 bytes: ML-KEM randomness || X25519 ephemeral secret) selects
   * EncapsulateDerand for reproducible vectors; otherwise fresh randomness is used.
   */
  encapsulate(publicKey: Uint8Array, eseed?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
    if (publicKey.length !== X_WING.publicKeyLength) throw new XWingError('X-Wing public key must be 1216 bytes');
    if (eseed && eseed.length !== X_WING.encapsulationSeedLength) throw new XWingError('X-Wing eseed must be 64 bytes');
    const pkM = publicKey.subarray(0, ML_KEM_768.publicKeyLength);
    const pkX = publicKey.subarray(ML_KEM_768.publicKeyLength);
    const ephemeral = eseed ? seededEphemeral(eseed.subarray(32, 64)) : x25519Ephemeral();
    const ctX = ephemeral.publicKey;
    const ssX = x25519(ephemeral.secret, pkX);
    const { cipherText: ctM, sharedSecret: ssM } = this.mlKem.encapsulate(pkM, eseed?.subarray(0, 32));
    return { cipherText: concatBytes(ctM, ctX), sharedSecret: combiner(ssM, ssX, ctX, pkX) };
  }

  /** Decapsulate (§5.5). */
  decapsulate(cipherText: Uint8Array, key: XWingExpandedKey): Uint8Array {
    if (cipherText.length !== X_WING.cipherTextLength) throw new XWingError('X-Wing ciphertext must be 1120 bytes');
    const ctM = cipherText.subarray(0, ML_KEM_768.cipherTextLength);
    const ctX = cipherText.subarray(ML_KEM_768.cipherTextLength);
    const ssM = this.mlKem.decapsulate(ctM, key.mlKemSecretKey);
    const ssX = x25519(key.x25519Secret, ctX);
    return combiner(ssM, ssX, ctX, key.x25519Public);
  }
}

/** Combiner (§5.3): SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel). */
function combiner(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  return sha3_256(ssM, ssX, ctX, pkX, X_WING_LABEL);
}

function seededEphemeral(secret: Uint8Array): { secret: KeyObject; publicKey: Uint8Array } {
  const key = x25519PrivateKey(secret);
  return { secret: key, publicKey: x25519Base(key) };
}

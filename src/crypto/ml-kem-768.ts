import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { createMLKEM768 } from '@oqs/liboqs-js/kem';
import { asPlainBytes } from './bytes.js';

/**
 * ML-KEM-768 (FIPS 203).
 *
 * liboqs' WASM build has no derandomized key generation or encapsulation, so key generation from a
 * seed always goes through noble (keys are byte-compatible, FIPS 203 §7) and `encapsulate` with
 * explicit randomness `m` is only offered by noble (used for test vectors).
 */
export interface MlKem768 {
  readonly implementation: string;
  /** ML-KEM.KeyGen_internal(d, z) with the 64-byte seed d || z. */
  keygenFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** ML-KEM.Encaps(ek); `m` (32 bytes) selects Encaps_internal for reproducible vectors where supported. */
  encapsulate(publicKey: Uint8Array, m?: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

export const ML_KEM_768 = {
  publicKeyLength: 1184,
  secretKeyLength: 2400,
  cipherTextLength: 1088,
  sharedSecretLength: 32,
  seedLength: 64,
} as const;

export class MlKemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlKemError';
  }
}

function nobleKeygen(seed: Uint8Array) {
  if (seed.length !== ML_KEM_768.seedLength) throw new MlKemError('ML-KEM-768 seed must be 64 bytes');
  return ml_kem768.keygen(asPlainBytes(seed));
}

export class NobleMlKem768 implements MlKem768 {
  readonly implementation = 'noble-post-quantum';

  keygenFromSeed(seed: Uint8Array) {
    return nobleKeygen(seed);
  }

  encapsulate(publicKey: Uint8Array, m?: Uint8Array) {
    try {
      return ml_kem768.encapsulate(asPlainBytes(publicKey), m ? asPlainBytes(m) : undefined);
    } catch (cause) {
      throw new MlKemError(`ML-KEM-768 encapsulation failed: ${(cause as Error).message}`);
    }
  }

  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    try {
      return ml_kem768.decapsulate(asPlainBytes(cipherText), asPlainBytes(secretKey));
    } catch (cause) {
      throw new MlKemError(`ML-KEM-768 decapsulation failed: ${(cause as Error).message}`);
    }
  }
}

type LiboqsMlKem768 = Awaited<ReturnType<typeof createMLKEM768>>;

export class LiboqsMlKem768Impl implements MlKem768 {
  readonly implementation = 'liboqs-wasm';
  private constructor(private readonly oqs: LiboqsMlKem768) {}

  static async create(): Promise<LiboqsMlKem768Impl> {
    return new LiboqsMlKem768Impl(await createMLKEM768());
  }

  keygenFromSeed(seed: Uint8Array) {
    return nobleKeygen(seed);
  }

  encapsulate(publicKey: Uint8Array, m?: Uint8Array) {
    if (m) throw new MlKemError('liboqs-wasm does not support derandomized encapsulation');
    if (publicKey.length !== ML_KEM_768.publicKeyLength) throw new MlKemError('ML-KEM-768 public key must be 1184 bytes');
    try {
      const { ciphertext, sharedSecret } = this.oqs.encapsulate(asPlainBytes(publicKey));
      return { cipherText: ciphertext, sharedSecret };
    } catch (cause) {
      throw new MlKemError(`ML-KEM-768 encapsulation failed: ${(cause as Error).message}`);
    }
  }

  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    if (cipherText.length !== ML_KEM_768.cipherTextLength) throw new MlKemError('ML-KEM-768 ciphertext must be 1088 bytes');
    if (secretKey.length !== ML_KEM_768.secretKeyLength) throw new MlKemError('ML-KEM-768 secret key must be 2400 bytes');
    try {
      return this.oqs.decapsulate(asPlainBytes(cipherText), asPlainBytes(secretKey));
    } catch (cause) {
      throw new MlKemError(`ML-KEM-768 decapsulation failed: ${(cause as Error).message}`);
    }
  }
}

import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { createMLDSA65 } from '@oqs/liboqs-js/sig';
import { asPlainBytes } from './bytes.js';

/**
 * ML-DSA-65 (FIPS 204), pure mode with the empty context string.
 *
 * Two implementations: liboqs compiled to WebAssembly (fast, randomized "hedged" signing only, no
 * context strings, no seeded key generation) and noble-post-quantum (pure JS, slower, supports all).
 * Key generation from a seed always goes through noble, since liboqs' WASM build does not expose
 * ML-DSA.KeyGen_internal; keys are byte-compatible (FIPS 204 §7.2 encodings).
 */
export interface MlDsa65 {
  readonly implementation: string;
  /** ML-DSA.KeyGen_internal(ξ) with a 32-byte seed ξ. */
  keygenFromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** Hedged ML-DSA.Sign(sk, M, ctx = ""). */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** ML-DSA.Verify(pk, M, σ, ctx = ""); false (never throws) for malformed input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export const ML_DSA_65 = { publicKeyLength: 1952, secretKeyLength: 4032, signatureLength: 3309, seedLength: 32 } as const;

function nobleKeygen(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed.length !== ML_DSA_65.seedLength) throw new RangeError('ML-DSA-65 seed must be 32 bytes');
  return ml_dsa65.keygen(asPlainBytes(seed));
}

export class NobleMlDsa65 implements MlDsa65 {
  readonly implementation = 'noble-post-quantum';
  /** `deterministic` signs with rnd = 0^32 (FIPS 204 §3.4), used only to produce reproducible test vectors. */
  constructor(private readonly deterministic = false) {}

  keygenFromSeed(seed: Uint8Array) {
    return nobleKeygen(seed);
  }

  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    return ml_dsa65.sign(asPlainBytes(message), asPlainBytes(secretKey), this.deterministic ? { extraEntropy: false } : {});
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    try {
      return ml_dsa65.verify(asPlainBytes(signature), asPlainBytes(message), asPlainBytes(publicKey));
    } catch {
      return false;
    }
  }
}

type LiboqsMlDsa65 = Awaited<ReturnType<typeof createMLDSA65>>;

export class LiboqsMlDsa65Impl implements MlDsa65 {
  readonly implementation = 'liboqs-wasm';
  private constructor(private readonly oqs: LiboqsMlDsa65) {}

  static async create(): Promise<LiboqsMlDsa65Impl> {
    return new LiboqsMlDsa65Impl(await createMLDSA65());
  }

  keygenFromSeed(seed: Uint8Array) {
    return nobleKeygen(seed);
  }

  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
    return this.oqs.sign(asPlainBytes(message), asPlainBytes(secretKey));
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== ML_DSA_65.publicKeyLength || signature.length !== ML_DSA_65.signatureLength) return false;
    try {
      return this.oqs.verify(asPlainBytes(message), asPlainBytes(signature), asPlainBytes(publicKey));
    } catch {
      return false;
    }
  }
}

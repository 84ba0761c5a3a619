import type { KeyObject } from 'node:crypto';
import { compositeMessage } from '@pqseal/sdk/envelope';
import { concatBytes } from './bytes.js';
import { ED25519_SIGNATURE_LENGTH, ed25519PrivateKey, ed25519PublicFromSeed, ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519.js';
import { sha512 } from './hash.js';
import { ML_DSA_65, type MlDsa65 } from './ml-dsa-65.js';

/**
 * Composite ML-DSA-65 + Ed25519 signature in the manner of draft-ietf-lamps-pq-composite-sigs
 * (id-MLDSA65-Ed25519-SHA512):
 *
 *   M' = Prefix || Label || len(ctx) || ctx || SHA-512(M)
 *   σ  = ML-DSA-65.Sign(sk_mldsa, M') || Ed25519.Sign(sk_ed, M')
 *
 * Verification succeeds only if both component signatures verify.
 *
 * Deviation, documented in docs/envelope.md: the draft passes ctx = Label to the ML-DSA component;
 * we use the empty ML-DSA context because the fastest implementation that passes the vectors here
 * (liboqs WASM) cannot take a context string. Domain separation is unaffected: Prefix and Label
 * are inside M', which both components sign.
 */

export const COMPOSITE_MLDSA65_ED25519 = {
  /** 32-byte ML-DSA seed ξ || 32-byte Ed25519 seed. */
  secretSeedLength: ML_DSA_65.seedLength + 32,
  publicKeyLength: ML_DSA_65.publicKeyLength + 32,
  signatureLength: ML_DSA_65.signatureLength + ED25519_SIGNATURE_LENGTH,
} as const;

/** A signing key expanded once from its seeds; keep it cached, expansion costs an ML-DSA key generation. */
export interface CompositeSigningKey {
  readonly mlDsaSecretKey: Uint8Array;
  readonly ed25519Key: KeyObject;
  readonly publicKey: Uint8Array;
}

export interface CompositeVerifyingKey {
  readonly mlDsaPublicKey: Uint8Array;
  readonly ed25519Key: KeyObject;
}

export class CompositeKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompositeKeyError';
  }
}

export class CompositeSignature {
  constructor(private readonly mlDsa: MlDsa65) {}

  get implementation(): string {
    return `composite(ml-dsa-65=${this.mlDsa.implementation}, ed25519=node:crypto)`;
  }

  expandSecret(seed: Uint8Array): CompositeSigningKey {
    if (seed.length !== COMPOSITE_MLDSA65_ED25519.secretSeedLength) throw new CompositeKeyError('composite secret must be 64 bytes');
    const { publicKey, secretKey } = this.mlDsa.keygenFromSeed(seed.subarray(0, 32));
    const edSeed = seed.subarray(32, 64);
    return {
      mlDsaSecretKey: secretKey,
      ed25519Key: ed25519PrivateKey(edSeed),
      publicKey: concatBytes(publicKey, ed25519PublicFromSeed(edSeed)),
    };
  }

  parsePublic(publicKey: Uint8Array): CompositeVerifyingKey {
    if (publicKey.length !== COMPOSITE_MLDSA65_ED25519.publicKeyLength) throw new CompositeKeyError('composite public key must be 1984 bytes');
    return {
      mlDsaPublicKey: publicKey.subarray(0, ML_DSA_65.publicKeyLength),
      ed25519Key: ed25519PublicKey(publicKey.subarray(ML_DSA_65.publicKeyLength)),
    };
  }

  sign(key: CompositeSigningKey, message: Uint8Array, ctx: Uint8Array): Uint8Array {
    const mPrime = messageRepresentative(message, ctx);
    return concatBytes(this.mlDsa.sign(key.mlDsaSecretKey, mPrime), ed25519Sign(key.ed25519Key, mPrime));
  }

  /** Returns false (never throws) for a wrong-length or otherwise malformed signature. */
  verify(key: CompositeVerifyingKey, message: Uint8Array, signature: Uint8Array, ctx: Uint8Array): boolean {
    if (signature.length !== COMPOSITE_MLDSA65_ED25519.signatureLength) return false;
    const mPrime = messageRepresentative(message, ctx);
    const mlDsaOk = this.mlDsa.verify(key.mlDsaPublicKey, mPrime, signature.subarray(0, ML_DSA_65.signatureLength));
    const edOk = ed25519Verify(key.ed25519Key, mPrime, signature.subarray(ML_DSA_65.signatureLength));
    return mlDsaOk && edOk;
  }
}

/** M' = Prefix || Label || len(ctx) || ctx || PH(M), built by the format module the SDK verifies with. */
function messageRepresentative(message: Uint8Array, ctx: Uint8Array): Uint8Array {
  return compositeMessage(ctx, sha512(message));
}

import { concatBytes, utf8 } from './bytes.js';

/**
 * The composite ML-DSA-65 + Ed25519 signature of draft-ietf-lamps-pq-composite-sigs
 * (id-MLDSA65-Ed25519-SHA512), as envelopes use it: both components sign the message representative
 *
 *   M' = Prefix || Label || len(ctx) || ctx || SHA-512(M)
 *
 * and σ = ML-DSA-65(M', empty context) || Ed25519(M'). The hash is the caller's (OpenSSL on the
 * server, noble in the SDK), so this module stays free of crypto implementations.
 */

const PREFIX = utf8.encode('CompositeAlgorithmSignatures2025');
const LABEL = utf8.encode('COMPSIG-MLDSA65-Ed25519-SHA512');

/** Wire sizes: public key = ML-DSA-65 (FIPS 204) || Ed25519 (RFC 8032); signature likewise. */
export const COMPOSITE_MLDSA65_ED25519_SIZES = {
  mlDsa65PublicKey: 1952,
  mlDsa65Signature: 3309,
  ed25519PublicKey: 32,
  ed25519Signature: 64,
  publicKey: 1952 + 32,
  signature: 3309 + 64,
} as const;

/** M' from ctx and SHA-512(M). */
export function compositeMessage(ctx: Uint8Array, messageDigest: Uint8Array): Uint8Array {
  if (ctx.length > 255) throw new RangeError('composite signature context must be at most 255 bytes');
  return concatBytes(PREFIX, LABEL, new Uint8Array([ctx.length]), ctx, messageDigest);
}

import { CompositeSignature } from './composite-signature.js';
import { LiboqsMlDsa65Impl, NobleMlDsa65, type MlDsa65 } from './ml-dsa-65.js';
import { LiboqsMlKem768Impl, NobleMlKem768, type MlKem768 } from './ml-kem-768.js';
import { XWing } from './x-wing.js';

/**
 * The primitive implementations the envelope uses. Selection is by measurement on this machine
 * (`npm run bench:crypto`, docs/envelope.md): liboqs WASM for ML-DSA-65 and ML-KEM-768, Node's
 * OpenSSL for everything classical. `noble` is the pure-JS alternative; `deterministic` is noble
 * with derandomized ML-DSA signing, used only to produce reproducible test vectors.
 */
export type ProviderSet = 'fastest' | 'noble' | 'deterministic';

export interface CryptoProviders {
  readonly set: ProviderSet;
  readonly mlDsa65: MlDsa65;
  readonly mlKem768: MlKem768;
  readonly xWing: XWing;
  readonly composite: CompositeSignature;
}

export async function loadProviders(set: ProviderSet = 'fastest'): Promise<CryptoProviders> {
  const [mlDsa65, mlKem768] =
    set === 'fastest'
      ? await Promise.all([LiboqsMlDsa65Impl.create(), LiboqsMlKem768Impl.create()])
      : [new NobleMlDsa65(set === 'deterministic'), new NobleMlKem768()];
  return { set, mlDsa65, mlKem768, xWing: new XWing(mlKem768), composite: new CompositeSignature(mlDsa65) };
}

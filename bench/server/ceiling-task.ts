import { randomBytes } from 'node:crypto';
import { aesGcmOpen, aesGcmSeal } from '../../src/crypto/aes-gcm.js';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../../src/crypto/composite-signature.js';
import { sha512 } from '../../src/crypto/hash.js';
import { hkdfSha256 } from '../../src/crypto/hkdf.js';
import type { CryptoProviders } from '../../src/crypto/providers.js';
// Only ever loaded in a crypto worker thread, after that module has started: its providers, not a second copy.
import { providers as p } from '../../src/core/crypto-worker.js';
import type { XWingExpandedKey } from '../../src/crypto/x-wing.js';
import type { CeilingTask } from './ceiling.js';

/**
 * The crypto ceiling, run on the service's crypto worker threads (piscina loads this module by file
 * name for each ceiling task; src/core/crypto-pool.ts `runModule`): exactly the primitive work of a
 * sign-encrypt / decrypt-verify of `size` bytes, nothing else — SHA-512 of the payload, the composite
 * signature over a message of the signed-message's size, X-Wing, HKDF-SHA-256 and AES-256-GCM over
 * payload + signature — with no envelope encoding, key lookup or copying beyond what the primitives
 * themselves do.
 */

const SIGNED_MESSAGE_BYTES = 200;
const NONE = new Uint8Array(0);

interface State {
  sk: CompositeSigningKey;
  vk: CompositeVerifyingKey;
  kem: XWingExpandedKey;
  pk: Uint8Array;
  payload: Uint8Array;
  message: Uint8Array;
  sig: Uint8Array;
  ct: Uint8Array;
  sealed: Uint8Array;
}

let state: State | undefined;

function init(p: CryptoProviders, size: number): State {
  const sk = p.composite.expandSecret(randomBytes(64));
  const kem = p.xWing.expand(randomBytes(32));
  const pk = p.xWing.publicKey(kem);
  const payload = randomBytes(size);
  const message = randomBytes(SIGNED_MESSAGE_BYTES);
  const sig = p.composite.sign(sk, message, NONE);
  const { cipherText: ct, sharedSecret } = p.xWing.encapsulate(pk);
  const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
  const sealed = aesGcmSeal(okm.subarray(0, 32), okm.subarray(32), [sig, payload], ct);
  return { sk, vk: p.composite.parsePublic(sk.publicKey), kem, pk, payload, message, sig, ct, sealed };
}

export default function ceiling(task: CeilingTask): { kind: 'ceiling' } {
  if (!state || state.payload.length !== task.size) state = init(p, task.size);
  if (task.op === 'ceiling-seal') {
    sha512(state.payload);
    const sig = p.composite.sign(state.sk, state.message, NONE);
    const { cipherText, sharedSecret } = p.xWing.encapsulate(state.pk);
    const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
    aesGcmSeal(okm.subarray(0, 32), okm.subarray(32), [sig, state.payload], cipherText);
  } else {
    const sharedSecret = p.xWing.decapsulate(state.ct, state.kem);
    const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
    aesGcmOpen(okm.subarray(0, 32), okm.subarray(32), state.sealed, state.ct);
    sha512(state.payload);
    if (!p.composite.verify(state.vk, state.message, state.sig, NONE)) throw new Error('ceiling signature did not verify');
  }
  return { kind: 'ceiling' };
}

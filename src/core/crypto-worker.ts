import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { randomBytes } from 'node:crypto';
import { aesGcmOpen, aesGcmSeal } from '../crypto/aes-gcm.js';
import { sha512 } from '../crypto/hash.js';
import { hkdfSha256 } from '../crypto/hkdf.js';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { unwrapKey } from '../crypto/key-wrap.js';
import { loadProviders, type ProviderSet } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { EnvelopeError, inspectEnvelope, open, seal } from '../envelope/index.js';
import { decryptVerifyResponse, frameJson, frameSealJson, plainDecryptResponse, sealResponse } from './responses.js';
import { ThreadIdRegistry } from './thread-id.js';
import type { CeilingTask, CryptoTask, OpenResult, OpenTask, SealResult, SealTask, WrappedSecretRef } from './crypto-tasks.js';

/**
 * Piscina worker: all CPU-heavy envelope work happens here, off the event loop. Each worker keeps
 * the keys it has expanded (unwrap + ML-DSA/ML-KEM key generation from the seed happen once per key).
 */

const { masterKey, providerSet, threadIds } = workerData as { masterKey: Uint8Array; providerSet: ProviderSet; threadIds: SharedArrayBuffer };
new ThreadIdRegistry(threadIds).register();
const providers = await loadProviders(providerSet);

const signingKeys = new Map<string, CompositeSigningKey>();
const kemKeys = new Map<string, XWingExpandedKey>();
/**
 * Verifying keys by (organisation, key id): the envelope names both, and a key is only ever the
 * signer's if the store says that organisation owns it — an envelope claiming organisation B with
 * A's key id must never be checked against A's key.
 */
const verifyingKeys = new Map<string, CompositeVerifyingKey>();
const verifyingKeyEntry = (orgId: string, keyId: string): string => `${orgId}\u0000${keyId}`;

function signingKey(ref: WrappedSecretRef): CompositeSigningKey {
  let key = signingKeys.get(ref.keyId);
  if (!key) {
    key = providers.composite.expandSecret(unwrapKey(masterKey, ref.keyId, ref.wrappedSecret));
    signingKeys.set(ref.keyId, key);
  }
  return key;
}

function kemKey(ref: WrappedSecretRef): XWingExpandedKey {
  let key = kemKeys.get(ref.keyId);
  if (!key) {
    key = providers.xWing.expand(unwrapKey(masterKey, ref.keyId, ref.wrappedSecret));
    kemKeys.set(ref.keyId, key);
  }
  return key;
}

function runSeal(task: SealTask): SealResult | ReturnType<typeof move> {
  const sealed = seal(providers, {
    plaintext: task.plaintext,
    recipient: task.recipient,
    signer: task.signer && {
      orgId: task.signer.orgId,
      keyId: task.signer.key.keyId,
      displayName: task.signer.displayName,
      key: signingKey(task.signer.key),
    },
    permissions: task.permissions,
  });
  const json = frameSealJson(task.frame, sealResponse(sealed.envelope, sealed.envelopeId));
  return moved({ kind: 'sealed', json, envelopeId: sealed.envelopeId } satisfies SealResult, json.buffer);
}

function runOpen(task: OpenTask): OpenResult | ReturnType<typeof move> {
  const answered = task.signerPublicKey;
  if (answered?.publicKey && !verifyingKeys.has(verifyingKeyEntry(answered.orgId, answered.keyId))) {
    verifyingKeys.set(verifyingKeyEntry(answered.orgId, answered.keyId), providers.composite.parsePublic(answered.publicKey));
  }
  const parsed = inspectEnvelope(task.envelope);
  const kem = kemKey(task.kemKey);
  let missing: { orgId: string; keyId: string } | undefined;
  const opened = open(providers, parsed, {
    kemKey: (_orgId, keyId) => (keyId === task.kemKey.keyId ? kem : undefined),
    signerKey: (orgId, keyId) => {
      if (!task.verify) return undefined;
      const key = verifyingKeys.get(verifyingKeyEntry(orgId, keyId));
      if (!key && !answered) missing = { orgId, keyId };
      return key;
    },
  });
  if (missing) return { kind: 'need-signer-key', ...missing };
  const answer = task.verify ? decryptVerifyResponse(opened) : plainDecryptResponse(opened);
  if (!answer) return { kind: 'not-signed', envelopeId: opened.envelopeId };
  const json = frameJson(task.frame, answer);
  return moved({ kind: 'opened', json, envelopeId: opened.envelopeId } satisfies OpenResult, json.buffer);
}

/** A result whose `buffer` is transferred to the main thread instead of copied (piscina's Transferable protocol). */
function moved(value: object, buffer: ArrayBufferLike): ReturnType<typeof move> {
  return move({ [transferableSymbol]: buffer, [valueSymbol]: value });
}

/**
 * Bench-only: exactly the primitive work of a sign-encrypt / decrypt-verify of `size` bytes, nothing
 * else — SHA-512 of the payload, the composite signature over a message of the signed-message's size,
 * X-Wing, HKDF-SHA-256 and AES-256-GCM over payload + signature — with no envelope encoding, key
 * lookup or copying beyond what the primitives themselves do.
 */
const ceiling = (() => {
  const SIGNED_MESSAGE_BYTES = 200;
  const NONE = new Uint8Array(0);
  let state:
    | {
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
    | undefined;
  const init = (size: number) => {
    const sk = providers.composite.expandSecret(randomBytes(64));
    const kem = providers.xWing.expand(randomBytes(32));
    const pk = providers.xWing.publicKey(kem);
    const payload = randomBytes(size);
    const message = randomBytes(SIGNED_MESSAGE_BYTES);
    const sig = providers.composite.sign(sk, message, NONE);
    const { cipherText: ct, sharedSecret } = providers.xWing.encapsulate(pk);
    const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
    const sealed = aesGcmSeal(okm.subarray(0, 32), okm.subarray(32), [sig, payload], ct);
    return { sk, vk: providers.composite.parsePublic(sk.publicKey), kem, pk, payload, message, sig, ct, sealed };
  };
  return (task: CeilingTask): { kind: 'ceiling' } => {
    if (!state || state.payload.length !== task.size) state = init(task.size);
    if (task.op === 'ceiling-seal') {
      sha512(state.payload);
      const sig = providers.composite.sign(state.sk, state.message, NONE);
      const { cipherText, sharedSecret } = providers.xWing.encapsulate(state.pk);
      const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
      aesGcmSeal(okm.subarray(0, 32), okm.subarray(32), [sig, state.payload], cipherText);
    } else {
      const sharedSecret = providers.xWing.decapsulate(state.ct, state.kem);
      const okm = hkdfSha256(sharedSecret, NONE, NONE, 44);
      aesGcmOpen(okm.subarray(0, 32), okm.subarray(32), state.sealed, state.ct);
      sha512(state.payload);
      if (!providers.composite.verify(state.vk, state.message, state.sig, NONE)) throw new Error('ceiling signature did not verify');
    }
    return { kind: 'ceiling' };
  };
})();

export default function run(task: CryptoTask): SealResult | OpenResult | ReturnType<typeof move> | { kind: 'ceiling' } {
  try {
    switch (task.op) {
      case 'seal':
        return runSeal(task);
      case 'open':
        return runOpen(task);
      case 'ceiling-seal':
      case 'ceiling-open':
        return ceiling(task);
    }
  } catch (e) {
    if (e instanceof EnvelopeError) return { kind: 'error', code: e.code, message: e.message };
    if (e instanceof RangeError) return { kind: 'error', code: 'VALIDATION_ERROR', message: e.message };
    throw e;
  }
}

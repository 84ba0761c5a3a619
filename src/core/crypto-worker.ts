import { workerData } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { utf8 } from '../crypto/bytes.js';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { unwrapKey } from '../crypto/key-wrap.js';
import { loadProviders, type ProviderSet } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { EnvelopeError, inspectEnvelope, open, seal } from '../envelope/index.js';
import type { CeilingTask, CryptoTask, OpenResult, OpenTask, SealResult, SealTask, WrappedSecretRef } from './crypto-tasks.js';

/**
 * Piscina worker: all CPU-heavy envelope work happens here, off the event loop. Each worker keeps
 * the keys it has expanded (unwrap + ML-DSA/ML-KEM key generation from the seed happen once per key).
 */

const { masterKey, providerSet } = workerData as { masterKey: Uint8Array; providerSet: ProviderSet };
const providers = await loadProviders(providerSet);

const signingKeys = new Map<string, CompositeSigningKey>();
const kemKeys = new Map<string, XWingExpandedKey>();
const verifyingKeys = new Map<string, CompositeVerifyingKey>();

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

function runSeal(task: SealTask): SealResult {
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
  return { kind: 'sealed', envelope: sealed.envelope, envelopeId: sealed.envelopeId, createdAt: sealed.createdAt };
}

function runOpen(task: OpenTask): OpenResult {
  if (task.signerPublicKey?.publicKey && !verifyingKeys.has(task.signerPublicKey.keyId)) {
    verifyingKeys.set(task.signerPublicKey.keyId, providers.composite.parsePublic(task.signerPublicKey.publicKey));
  }
  const parsed = inspectEnvelope(task.envelope);
  const kem = kemKey(task.kemKey);
  let missing: { orgId: string; keyId: string } | undefined;
  const opened = open(providers, parsed, {
    kemKey: (_orgId, keyId) => (keyId === task.kemKey.keyId ? kem : undefined),
    signerKey: (orgId, keyId) => {
      if (!task.verify) return undefined;
      const key = verifyingKeys.get(keyId);
      if (!key && !task.signerPublicKey) missing = { orgId, keyId };
      return key;
    },
  });
  if (missing) return { kind: 'need-signer-key', ...missing };
  const isText = opened.header.contentType === 'text';
  return {
    kind: 'opened',
    text: isText ? utf8.decode(opened.plaintext) : undefined,
    bytes: isText ? undefined : opened.plaintext,
    envelopeId: opened.envelopeId,
    createdAt: opened.createdAt,
    signature: !task.verify && opened.signature.status !== 'absent' ? { status: 'unchecked' } : opened.signature,
  };
}

/** Bench-only: exactly the primitive work of a sign-encrypt / decrypt-verify, nothing else. */
const ceiling = (() => {
  let state: { sk: CompositeSigningKey; vk: CompositeVerifyingKey; kem: XWingExpandedKey; pk: Uint8Array; ct: Uint8Array; sig: Uint8Array; msg: Uint8Array } | undefined;
  return (task: CeilingTask): { kind: 'ceiling' } => {
    if (!state) {
      const sk = providers.composite.expandSecret(randomBytes(64));
      const kem = providers.xWing.expand(randomBytes(32));
      const pk = providers.xWing.publicKey(kem);
      const msg = randomBytes(task.size);
      state = { sk, vk: providers.composite.parsePublic(sk.publicKey), kem, pk, msg, ct: providers.xWing.encapsulate(pk).cipherText, sig: providers.composite.sign(sk, msg, new Uint8Array()) };
    }
    if (task.op === 'ceiling-seal') {
      providers.composite.sign(state.sk, state.msg, new Uint8Array());
      providers.xWing.encapsulate(state.pk);
    } else {
      providers.xWing.decapsulate(state.ct, state.kem);
      providers.composite.verify(state.vk, state.msg, state.sig, new Uint8Array());
    }
    return { kind: 'ceiling' };
  };
})();

export default function run(task: CryptoTask): SealResult | OpenResult | { kind: 'ceiling' } {
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

import { workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { CompositeSigningKey, CompositeVerifyingKey } from '../crypto/composite-signature.js';
import { unwrapKey } from '../crypto/key-wrap.js';
import { loadProviders, type ProviderSet } from '../crypto/providers.js';
import type { XWingExpandedKey } from '../crypto/x-wing.js';
import { EnvelopeError, LruMemo, inspectEnvelope, open, sealBatch, verifySignature } from '../envelope/index.js';
import { decryptVerifyResponse, plainDecryptResponse, resultJson, sealResponse, sealResultJson } from './results.js';
import { runWorkerStartup, type WorkerStartup } from '../common/worker-startup.js';
import type {
  CryptoTask,
  OpenBatchResult,
  OpenBatchTask,
  OpenResult,
  OpenTask,
  PendingSignature,
  SealBatchResult,
  SealBatchTask,
  SealResult,
  TaskError,
  VerifyResult,
  VerifyTask,
  WrappedSecretRef,
} from './crypto-tasks.js';

/**
 * Piscina worker: all CPU-heavy envelope work happens here, off the event loop. Each worker keeps
 * the keys it has expanded (unwrap + ML-DSA/ML-KEM key generation from the seed happen once per key).
 */

const { masterKey, providerSet, startup } = workerData as { masterKey: Uint8Array; providerSet: ProviderSet; startup?: WorkerStartup };
await runWorkerStartup(startup);
/** This worker's primitives (the benchmark's ceiling task, bench/server/ceiling-task.ts, runs on them too). */
export const providers = await loadProviders(providerSet);

const signingKeys = new Map<string, CompositeSigningKey>();
const kemKeys = new Map<string, XWingExpandedKey>();
/**
 * Verifying keys by (organisation, key id): the envelope names both, and a key is only ever the
 * signer's if the store says that organisation owns it — an envelope claiming organisation B with
 * A's key id must never be checked against A's key.
 */
const verifyingKeys = new Map<string, CompositeVerifyingKey>();
const verifyingKeyEntry = (orgId: string, keyId: string): string => `${orgId}\u0000${keyId}`;
/**
 * The envelopes of one v2 batch share an encapsulation and a signature: this worker decapsulates and
 * verifies each batch once (src/envelope/open.ts). Bounded, least recently used out.
 */
const sharedSecrets = new LruMemo<Uint8Array>(4096);
const verifiedRoots = new LruMemo<true>(4096);

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

function runSealBatch(task: SealBatchTask): SealBatchResult | ReturnType<typeof move> {
  const outcomes = sealBatch(providers, {
    items: task.items,
    recipient: task.recipient,
    signer: task.signer && {
      orgId: task.signer.orgId,
      keyId: task.signer.key.keyId,
      displayName: task.signer.displayName,
      key: signingKey(task.signer.key),
    },
  });
  const buffers: ArrayBufferLike[] = [];
  const results = outcomes.map((outcome, i): SealResult => {
    if (outcome instanceof Error) return itemError(outcome);
    const json = sealResultJson(sealResponse(outcome.envelope, outcome.envelopeId), (task.items[i] as SealBatchTask['items'][number]).room);
    buffers.push(json.buffer);
    return { kind: 'sealed', json, envelopeId: outcome.envelopeId };
  });
  return moved({ kind: 'sealed-batch', results } satisfies SealBatchResult, buffers);
}

function itemError(e: Error): TaskError {
  if (e instanceof EnvelopeError) return { kind: 'error', code: e.code, message: e.message };
  return { kind: 'error', code: 'VALIDATION_ERROR', message: e.message };
}

/**
 * Decrypts once. A signature whose key this worker does not hold yet comes back as a
 * `need-signer-key` with everything its check needs (`PendingSignature`): the main thread looks the
 * key up in the store and sends a `verify` task, which never decrypts again.
 */
function runOpen(task: OpenTask): OpenResult | ReturnType<typeof move> {
  const { result, buffer } = openItem(task);
  return buffer ? moved(result, buffer) : result;
}

/** Several opens in one task, each failing alone (the batch API). */
function runOpenBatch(task: OpenBatchTask): OpenBatchResult | ReturnType<typeof move> {
  const buffers: ArrayBufferLike[] = [];
  const results = task.items.map((item) => {
    try {
      const { result, buffer } = openItem(item);
      if (buffer) buffers.push(buffer);
      return result;
    } catch (e) {
      if (e instanceof EnvelopeError || e instanceof RangeError) return itemError(e);
      throw e;
    }
  });
  return moved({ kind: 'opened-batch', results } satisfies OpenBatchResult, buffers);
}

function openItem(task: Omit<OpenTask, 'op'>): { result: OpenResult; buffer?: ArrayBufferLike } {
  const parsed = inspectEnvelope(task.envelope);
  const kem = kemKey(task.kemKey);
  let missing = false;
  const opened = open(providers, parsed, {
    sharedSecrets,
    verifiedRoots,
    kemKey: (_orgId, keyId) => (keyId === task.kemKey.keyId ? kem : undefined),
    signerKey: (orgId, keyId) => {
      if (!task.verify) return undefined;
      const key = verifyingKeys.get(verifyingKeyEntry(orgId, keyId));
      missing = !key;
      return key;
    },
  });
  const sig = opened.signature;
  if (missing && sig.status !== 'absent' && opened.signatureInput) {
    const plaintext = new Uint8Array(opened.plaintext); // a buffer of its own, to move
    const pending: PendingSignature = {
      contentType: opened.header.contentType,
      envelopeId: opened.envelopeId,
      plaintext,
      claimed: sig,
      input: opened.signatureInput,
    };
    return { result: { kind: 'need-signer-key', pending }, buffer: plaintext.buffer };
  }
  const content = { contentType: opened.header.contentType, plaintext: opened.plaintext, envelopeId: opened.envelopeId, signature: sig };
  const answer = task.verify ? decryptVerifyResponse(content) : plainDecryptResponse(content);
  if (!answer) return { result: { kind: 'not-signed', envelopeId: opened.envelopeId } };
  const json = resultJson(answer, task.room);
  return { result: { kind: 'opened', json, envelopeId: opened.envelopeId }, buffer: json.buffer };
}

/** The signature check of a decrypt-verify whose first step lacked the key: no decryption here. */
function runVerify(task: VerifyTask): VerifyResult | ReturnType<typeof move> {
  const { pending } = task;
  const { claimed } = pending;
  let signature = claimed;
  if (task.signerPublicKey) {
    const entry = verifyingKeyEntry(claimed.signerOrgId, claimed.signerKeyId);
    let key = verifyingKeys.get(entry);
    if (!key) {
      key = providers.composite.parsePublic(task.signerPublicKey);
      verifyingKeys.set(entry, key);
    }
    const ok = verifySignature(providers, key, pending.input, claimed.signature, verifiedRoots);
    signature = ok ? { ...claimed, status: 'valid', reason: undefined } : { ...claimed, status: 'invalid', reason: 'SIGNATURE_MISMATCH' };
  }
  const answer = decryptVerifyResponse({ contentType: pending.contentType, plaintext: pending.plaintext, envelopeId: pending.envelopeId, signature });
  if (!answer) throw new Error('a pending signature is never absent');
  const json = resultJson(answer, task.room);
  return moved({ kind: 'opened', json, envelopeId: pending.envelopeId } satisfies VerifyResult, json.buffer);
}

/** A result whose `buffer` is transferred to the main thread instead of copied (piscina's Transferable protocol). */
function moved(value: object, buffers: ArrayBufferLike | ArrayBufferLike[]): ReturnType<typeof move> {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value });
}

export default function run(task: CryptoTask): SealBatchResult | OpenResult | OpenBatchResult | VerifyResult | ReturnType<typeof move> {
  try {
    switch (task.op) {
      case 'seal-batch':
        return runSealBatch(task);
      case 'open':
        return runOpen(task);
      case 'open-batch':
        return runOpenBatch(task);
      case 'verify':
        return runVerify(task);
    }
  } catch (e) {
    if (e instanceof EnvelopeError) return { kind: 'error', code: e.code, message: e.message };
    if (e instanceof RangeError) return { kind: 'error', code: 'VALIDATION_ERROR', message: e.message };
    throw e;
  }
}

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { decodeBatchProof, type BatchProofInput } from './batch-proof.js';
import {
  BATCH_SIGNATURE_CONTEXT,
  COMPOSITE_MLDSA65_ED25519_SIZES as SIZES,
  ENVELOPE_SIGNATURE_CONTEXT,
  EnvelopeError,
  batchSignedRootMessage,
  compositeMessage,
  concatBytes,
  decodeBase64,
  decodeBase64Url,
  signedMessage,
  utf8,
  type BatchProof,
} from './envelope/index.js';
import { inspectEnvelope, type EnvelopeHeaderInfo, type EnvelopePermission } from './inspect.js';

/**
 * Offline verification of a sign-encrypt envelope's signature, without trusting the server.
 *
 * decrypt-verify returns the plaintext, the signer the envelope names (organisation, key id, display
 * name) and the composite signature. The signed message (docs/envelope.md §"The signed message") is
 *
 *   M  = "pqseal-envelope-signature-v1" || header || lp8(signer_org_id) || lp8(signer_key_id)
 *        || lp16(signer_name) || SHA-512(payload)
 *   M' = "CompositeAlgorithmSignatures2025" || "COMPSIG-MLDSA65-Ed25519-SHA512" || len(ctx) || ctx
 *        || SHA-512(M),   ctx = "pqseal-envelope-v1"
 *   σ  = ML-DSA-65(M', empty context) (3309 bytes) || Ed25519(M') (64 bytes)
 *
 * The header is the clear start of the envelope string the caller already holds, the payload is the
 * returned plaintext. So with the signer's published public key (GET /v1/keys/<org id>, obtained or
 * pinned independently) anyone can rebuild M and check both component signatures with pure-JS
 * implementations (@noble/post-quantum, @noble/curves), in Node or in a browser.
 *
 * A version 2 envelope was signed in a batch (docs/envelope.md §Envelope v2): M is built the same way
 * with "pqseal-envelope-signature-v2", and σ covers the root of a Merkle tree over the batch's salted
 * messages. decrypt-verify then also returns `batch_proof` (leaf salt, batch size, leaf index,
 * inclusion path), from which the root follows (RFC 9162 §2.1.3.2), and
 *
 *   M_root = "pqseal-batch-root-v2" || u32(batch_size) || root,   σ checked over M_root with
 *   ctx = "pqseal-envelope-v2"
 *
 * The proof needs no trust either: a path that does not lead to the signed root fails like any
 * other altered claim.
 *
 * What a valid result proves: the holder of that signing key signed exactly this plaintext, for
 * this envelope id, recipient organisation, creation time and permission list. It does not prove
 * that the envelope's ciphertext contains this plaintext — only the recipient's private key can
 * show that — but a server that returned some other plaintext could not produce a signature for it.
 */

export const SIGNING_ALGORITHM = 'MLDSA65-Ed25519-SHA512';

/** One published key, in the wire (snake_case) or SDK (camelCase) spelling. */
export type PublicKeyEntryInput =
  | { readonly key_id: string; readonly kind?: string; readonly algorithm?: string; readonly public_key: string }
  | { readonly keyId: string; readonly kind?: string; readonly algorithm?: string; readonly publicKey: string | Uint8Array };

/**
 * The signer's public keys: the document of `GET /v1/keys/<org id>` (plain or in the Managed
 * wrapper, snake_case or camelCase), a list of its entries, or one raw composite key
 * (1984 bytes, or its base64url form) that the caller pinned.
 */
export type PublicKeysInput =
  | { readonly org_id: string; readonly keys: readonly PublicKeyEntryInput[] }
  | { readonly orgId: string; readonly keys: readonly PublicKeyEntryInput[] }
  | { readonly statusCode: number; readonly body: unknown }
  | readonly PublicKeyEntryInput[]
  | Uint8Array
  | string;

/** What decrypt-verify returned, as the SDK gives it (camelCase) or as the wire has it (snake_case). */
export type DecryptVerifyInput =
  | {
      readonly encryptedData?: string;
      readonly decryptedData: string;
      readonly dataEncoding?: 'base64' | undefined;
      readonly signedBy: string;
      readonly signedTimestamp?: string;
      readonly envelopeId?: string;
      readonly signerOrgId: string;
      readonly signerKeyId: string;
      readonly signature: string;
      /** Version 2 envelopes: the envelope's inclusion proof in its signed batch. */
      readonly batchProof?: BatchProofInput | undefined;
    }
  | {
      readonly decrypted_data: string;
      readonly data_encoding?: 'base64' | undefined;
      readonly signed_by: string;
      readonly signed_timestamp?: string;
      readonly envelope_id?: string;
      readonly signer_org_id: string;
      readonly signer_key_id: string;
      readonly signature: string;
      readonly batch_proof?: BatchProofInput | undefined;
    };

export interface VerifyOfflineInput {
  /** The decrypt-verify result (the SDK's or the raw JSON body). */
  readonly decryptVerifyResult: DecryptVerifyInput;
  /** The envelope string given to decrypt-verify; defaults to `decryptVerifyResult.encryptedData`. */
  readonly encryptedData?: string;
  readonly publicKeys: PublicKeysInput;
}

export type OfflineFailure =
  /** The signature does not verify over the rebuilt message (altered plaintext, signer, header or signature). */
  | 'SIGNATURE_MISMATCH'
  /** The given public keys do not contain the signing key the envelope names. */
  | 'SIGNER_KEY_UNKNOWN'
  /** The server's claims (envelope id, signed_timestamp, data_encoding against the signed content type, a batch proof for a v1 envelope) disagree with the envelope header. */
  | 'CLAIM_MISMATCH'
  /** The envelope is version 2 (batch-signed) and the result carries no batch proof to reach the signed root. */
  | 'BATCH_PROOF_MISSING'
  /** The envelope, signature or key cannot be parsed. */
  | 'MALFORMED';

export interface OfflineVerification {
  readonly valid: boolean;
  readonly reason?: OfflineFailure;
  readonly message: string;
  /** From the signed message: who signed, with which key, under which display name. */
  readonly signerOrgId: string;
  readonly signerKeyId: string;
  readonly signedBy: string;
  /** From the envelope header (signed): when, which envelope, for whom, shared with whom. */
  readonly signedTimestamp?: string;
  readonly envelopeId?: string;
  readonly recipientOrgId?: string;
  readonly permissions?: readonly EnvelopePermission[];
}

export function verifyOffline(input: VerifyOfflineInput): OfflineVerification {
  const claim = normaliseResult(input.decryptVerifyResult);
  const encryptedData = input.encryptedData ?? claim.encryptedData;
  const who = { signerOrgId: claim.signerOrgId, signerKeyId: claim.signerKeyId, signedBy: claim.signedBy };
  const fail = (reason: OfflineFailure, message: string, header?: EnvelopeHeaderInfo): OfflineVerification => ({
    valid: false,
    reason,
    message,
    ...who,
    ...(header ? headerFacts(header) : {}),
  });
  if (typeof encryptedData !== 'string') return fail('MALFORMED', 'the envelope string (encryptedData) is needed to rebuild the signed message');

  let header: EnvelopeHeaderInfo;
  try {
    header = inspectEnvelope(encryptedData);
  } catch (e) {
    return fail('MALFORMED', `the envelope cannot be parsed: ${(e as Error).message}`);
  }
  if (claim.envelopeId !== undefined && claim.envelopeId !== header.envelopeId) {
    return fail('CLAIM_MISMATCH', `the result names envelope ${claim.envelopeId}, the envelope header says ${header.envelopeId}`, header);
  }
  if (claim.signedTimestamp !== undefined && claim.signedTimestamp !== header.createdAt) {
    return fail('CLAIM_MISMATCH', `the result says signed at ${claim.signedTimestamp}, the envelope header says ${header.createdAt}`, header);
  }
  // The content type is signed (header): text read as base64, or bytes read as text, is data the signer did not present.
  if ((claim.dataEncoding === 'base64') !== (header.contentType === 'binary')) {
    return fail(
      'CLAIM_MISMATCH',
      `the result gives the data ${claim.dataEncoding === 'base64' ? 'as base64' : 'as text'}, the envelope header says ${header.contentType}`,
      header,
    );
  }
  if (header.version === 2 && claim.batchProof === undefined) {
    return fail(
      'BATCH_PROOF_MISSING',
      'the envelope is version 2 (batch-signed): its signature is checked through the batch_proof of decrypt-verify, which the result lacks',
      header,
    );
  }
  if (header.version !== 2 && claim.batchProof !== undefined) {
    return fail('CLAIM_MISMATCH', `the result carries a batch proof, the envelope header says version ${header.version} (signed alone)`, header);
  }

  let publicKey: Uint8Array | undefined;
  try {
    publicKey = selectKey(input.publicKeys, claim.signerOrgId, claim.signerKeyId);
  } catch (e) {
    return fail('MALFORMED', (e as Error).message, header);
  }
  if (!publicKey) return fail('SIGNER_KEY_UNKNOWN', `the public keys given do not include ${claim.signerKeyId} of organisation ${claim.signerOrgId}`, header);
  if (publicKey.length !== SIZES.publicKey) return fail('MALFORMED', 'the public key is not a 1984-byte ML-DSA-65 + Ed25519 composite key', header);

  let signature: Uint8Array;
  let payload: Uint8Array;
  try {
    signature = decodeBase64Url(claim.signature);
    payload = claim.dataEncoding === 'base64' ? decodeBase64(claim.decryptedData) : utf8.encode(claim.decryptedData);
  } catch {
    return fail('MALFORMED', 'the signature or the base64 payload cannot be decoded', header);
  }
  let proof: BatchProof | undefined;
  try {
    proof = claim.batchProof === undefined ? undefined : decodeBatchProof(claim.batchProof);
  } catch (e) {
    return fail('MALFORMED', (e as Error).message, header);
  }
  let ok: boolean;
  try {
    const signer = { orgId: claim.signerOrgId, keyId: claim.signerKeyId, displayName: claim.signedBy };
    if (proof) {
      const message = signedMessage(header.headerBytes, signer, sha512(payload), 2);
      const rootMessage = batchSignedRootMessage(sha256Parts, message, proof);
      ok = rootMessage !== undefined && verifyComposite(publicKey, rootMessage, signature, BATCH_SIGNATURE_CONTEXT);
    } else {
      ok = verifyComposite(publicKey, signedMessage(header.headerBytes, signer, sha512(payload)), signature, ENVELOPE_SIGNATURE_CONTEXT);
    }
  } catch (e) {
    if (e instanceof RangeError) return fail('MALFORMED', e.message, header);
    ok = false;
  }
  if (!ok) return fail('SIGNATURE_MISMATCH', 'the signature does not hold for this plaintext, signer and envelope header', header);
  return { valid: true, message: `signed by ${claim.signedBy} (${claim.signerKeyId}) at ${header.createdAt}`, ...who, ...headerFacts(header) };
}

const sha256Parts = (...parts: readonly Uint8Array[]): Uint8Array => sha256(concatBytes(...parts));

function headerFacts(header: EnvelopeHeaderInfo) {
  return { signedTimestamp: header.createdAt, envelopeId: header.envelopeId, recipientOrgId: header.ownerOrgId, permissions: header.permissions };
}

/** Composite ML-DSA-65 + Ed25519 (SHA-512) verification, as src/crypto/composite-signature.ts does it. */
export function verifyComposite(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, ctx: Uint8Array): boolean {
  if (publicKey.length !== SIZES.publicKey) return false;
  if (signature.length !== SIZES.signature) return false;
  const mPrime = compositeMessage(ctx, sha512(message));
  let mlDsaOk: boolean;
  let edOk: boolean;
  try {
    mlDsaOk = ml_dsa65.verify(signature.subarray(0, SIZES.mlDsa65Signature), mPrime, publicKey.subarray(0, SIZES.mlDsa65PublicKey));
  } catch {
    mlDsaOk = false;
  }
  try {
    // RFC 8032 / FIPS 186-5 rules (not ZIP-215), like the server's OpenSSL.
    edOk = ed25519.verify(signature.subarray(SIZES.mlDsa65Signature), mPrime, publicKey.subarray(SIZES.mlDsa65PublicKey), { zip215: false });
  } catch {
    edOk = false;
  }
  return mlDsaOk && edOk;
}

interface Claim {
  encryptedData: string | undefined;
  decryptedData: string;
  dataEncoding: string | undefined;
  signedBy: string;
  signedTimestamp: string | undefined;
  envelopeId: string | undefined;
  signerOrgId: string;
  signerKeyId: string;
  signature: string;
  /** Decoded only once the envelope's version asks for it. */
  batchProof: unknown;
}

function normaliseResult(r: DecryptVerifyInput): Claim {
  const o = r as Record<string, unknown>;
  const pick = (camel: string, snake: string): unknown => (o[camel] !== undefined ? o[camel] : o[snake]);
  const str = (camel: string, snake: string): string | undefined => {
    const v = pick(camel, snake);
    return typeof v === 'string' ? v : undefined;
  };
  const need = (camel: string, snake: string): string => {
    const v = str(camel, snake);
    if (v === undefined) throw new TypeError(`verifyOffline: the decrypt-verify result has no ${camel} (${snake})`);
    return v;
  };
  return {
    encryptedData: str('encryptedData', 'encrypted_data'),
    decryptedData: need('decryptedData', 'decrypted_data'),
    dataEncoding: str('dataEncoding', 'data_encoding'),
    signedBy: need('signedBy', 'signed_by'),
    signedTimestamp: str('signedTimestamp', 'signed_timestamp'),
    envelopeId: str('envelopeId', 'envelope_id'),
    signerOrgId: need('signerOrgId', 'signer_org_id'),
    signerKeyId: need('signerKeyId', 'signer_key_id'),
    signature: need('signature', 'signature'),
    // null is how a JSON answer may spell "no proof".
    batchProof: pick('batchProof', 'batch_proof') ?? undefined,
  };
}

function selectKey(input: PublicKeysInput, orgId: string, keyId: string): Uint8Array | undefined {
  if (input instanceof Uint8Array) return input;
  if (typeof input === 'string') return decodeKey(input);
  if (Array.isArray(input)) return fromEntries(input as readonly PublicKeyEntryInput[], keyId);
  let doc = input as Record<string, unknown>;
  if (typeof doc.statusCode === 'number' && 'body' in doc) doc = (typeof doc.body === 'string' ? JSON.parse(doc.body) : doc.body) as Record<string, unknown>;
  const docOrg = doc.org_id ?? doc.orgId;
  // Keys published for another organisation cannot vouch for this signer.
  if (typeof docOrg === 'string' && docOrg !== orgId) return undefined;
  if (!Array.isArray(doc.keys)) throw new TypeError('verifyOffline: publicKeys has no keys list');
  return fromEntries(doc.keys as readonly PublicKeyEntryInput[], keyId);
}

function fromEntries(entries: readonly PublicKeyEntryInput[], keyId: string): Uint8Array | undefined {
  for (const entry of entries) {
    const e = entry as Record<string, unknown>;
    const id = e.key_id ?? e.keyId;
    if (id !== keyId) continue;
    if (e.kind !== undefined && e.kind !== 'signing') continue;
    if (e.algorithm !== undefined && e.algorithm !== SIGNING_ALGORITHM) continue;
    const key = e.public_key ?? e.publicKey;
    if (key instanceof Uint8Array) return key;
    if (typeof key === 'string') return decodeKey(key);
  }
  return undefined;
}

function decodeKey(text: string): Uint8Array {
  try {
    return decodeBase64Url(text);
  } catch (e) {
    if (e instanceof EnvelopeError) throw new Error('the public key is not base64url', { cause: e });
    throw e;
  }
}

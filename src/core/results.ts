import { utf8 } from '../crypto/bytes.js';
import type { BatchProof, ContentType } from '@pqseal/sdk/envelope';
import type { OpenedEnvelope } from '../envelope/index.js';

/**
 * The results of the four operations, as JSON objects with the product's field names. The crypto
 * worker writes them as UTF-8 (`resultJson`) and moves the bytes to the main thread: the event loop
 * never copies, escapes or re-encodes a payload-sized string (docs/performance.md). How a result is
 * framed on the wire (Managed {statusCode, body}, Direct as is) is the HTTP layer's business
 * (src/http/answers.ts); the worker only leaves it room to do that in place.
 */

export interface SealResponse {
  readonly encrypted_data: string;
  readonly envelope_id: string;
}

export interface DecryptResponse {
  readonly decrypted_data: string;
  readonly envelope_id: string;
  /** Present only when the payload was sealed as bytes: decrypted_data is then base64. */
  readonly data_encoding?: 'base64';
}

/**
 * The decrypt result. `signed` says only whether the envelope carries a signature — decrypt does not
 * check it, and an unsigned envelope can be made by anyone who has the organisation's public KEM key,
 * so nothing here proves where the data came from (decrypt-verify does).
 */
export interface PlainDecryptResponse extends DecryptResponse {
  readonly signed: boolean;
}

export interface DecryptVerifyResponse extends DecryptResponse {
  readonly is_valid_signature: boolean;
  readonly signed_by: string;
  readonly signed_timestamp: string;
  readonly signer_org_id: string;
  readonly signer_key_id: string;
  readonly signature: string;
  readonly repudiator?: string;
  readonly signature_error?: string;
  /** v2 envelopes: the inclusion proof that ties this envelope to the batch root σ signs. */
  readonly batch_proof?: BatchProofResponse;
}

export interface BatchProofResponse {
  readonly leaf_salt: string;
  readonly batch_size: number;
  readonly leaf_index: number;
  readonly path: readonly string[];
}

/** Free bytes the caller wants before and after a result's JSON, to frame it without copying it. */
export interface JsonRoom {
  readonly before: number;
  readonly after: number;
}

/** What a decrypt result is made of: the opened envelope, or a decrypted one whose signature was checked later. */
export type OpenedContent = Pick<OpenedEnvelope, 'plaintext' | 'envelopeId' | 'signature'> & { readonly contentType: ContentType };

export function sealResponse(envelope: string, envelopeId: string): SealResponse {
  return { encrypted_data: envelope, envelope_id: envelopeId };
}

export function decryptResponse(opened: OpenedContent): DecryptResponse {
  if (opened.contentType === 'text') return { decrypted_data: utf8.decode(opened.plaintext), envelope_id: opened.envelopeId };
  return {
    decrypted_data: Buffer.from(opened.plaintext.buffer, opened.plaintext.byteOffset, opened.plaintext.byteLength).toString('base64'),
    envelope_id: opened.envelopeId,
    data_encoding: 'base64',
  };
}

export function plainDecryptResponse(opened: OpenedContent): PlainDecryptResponse {
  return { ...decryptResponse(opened), signed: opened.signature.status !== 'absent' };
}

/** Undefined when the envelope carries no signature (the caller answers 422 ENVELOPE_NOT_SIGNED). */
export function decryptVerifyResponse(opened: OpenedContent): DecryptVerifyResponse | undefined {
  const sig = opened.signature;
  if (sig.status === 'absent') return undefined;
  const valid = sig.status === 'valid';
  return {
    ...decryptResponse(opened),
    is_valid_signature: valid,
    signed_by: sig.signerName,
    signed_timestamp: sig.signedAt,
    signer_org_id: sig.signerOrgId,
    signer_key_id: sig.signerKeyId,
    signature: base64url(sig.signature),
    ...(valid ? {} : { repudiator: sig.signerName, signature_error: sig.reason ?? 'SIGNATURE_MISMATCH' }),
    ...(sig.batch ? { batch_proof: batchProofResponse(sig.batch) } : {}),
  };
}

function batchProofResponse(proof: BatchProof): BatchProofResponse {
  return { leaf_salt: base64url(proof.leafSalt), batch_size: proof.size, leaf_index: proof.index, path: proof.path.map(base64url) };
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** JSON of `value` as UTF-8, with `room` free bytes around it in a buffer of its own (transferable between threads). */
export function resultJson(value: DecryptResponse | DecryptVerifyResponse, room: JsonRoom): Uint8Array {
  return withRoom(JSON.stringify(value), room);
}

/** The seal result without a JSON.stringify pass over the envelope: base64url and hex never need escaping. */
export function sealResultJson(result: SealResponse, room: JsonRoom): Uint8Array {
  return withRoom(`{"encrypted_data":"${result.encrypted_data}","envelope_id":"${result.envelope_id}"}`, room);
}

/** `text` as UTF-8 at offset `room.before` of a buffer of its own (not a slice of Buffer's shared pool); the view of the text. */
function withRoom(text: string, room: JsonRoom): Uint8Array {
  const length = Buffer.byteLength(text);
  const bytes = Buffer.allocUnsafeSlow(room.before + length + room.after);
  bytes.write(text, room.before);
  return new Uint8Array(bytes.buffer, room.before, length);
}

import type { OpenedEnvelope } from '../envelope/index.js';
import { utf8 } from '../crypto/bytes.js';

/**
 * The answers of the four operations, as they go on the wire. The crypto worker builds them and
 * writes them as finished JSON (`frameJson`), moved to the main thread as bytes: the event loop never
 * copies, escapes or re-encodes a payload-sized string (docs/performance.md).
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
 * The decrypt answer. `signed` says only whether the envelope carries a signature — decrypt does not
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
}

/** JSON text around the answer object: the Managed API wraps it as {statusCode, body}, the Direct API does not. */
export interface JsonFrame {
  readonly prefix: string;
  readonly suffix: string;
}

export const MANAGED_FRAME: JsonFrame = { prefix: '{"statusCode":200,"body":', suffix: '}' };
export const DIRECT_FRAME: JsonFrame = { prefix: '', suffix: '' };

export function sealResponse(envelope: string, envelopeId: string): SealResponse {
  return { encrypted_data: envelope, envelope_id: envelopeId };
}

export function decryptResponse(opened: OpenedEnvelope): DecryptResponse {
  if (opened.header.contentType === 'text') return { decrypted_data: utf8.decode(opened.plaintext), envelope_id: opened.envelopeId };
  return {
    decrypted_data: Buffer.from(opened.plaintext.buffer, opened.plaintext.byteOffset, opened.plaintext.byteLength).toString('base64'),
    envelope_id: opened.envelopeId,
    data_encoding: 'base64',
  };
}

export function plainDecryptResponse(opened: OpenedEnvelope): PlainDecryptResponse {
  return { ...decryptResponse(opened), signed: opened.signature.status !== 'absent' };
}

/** Undefined when the envelope carries no signature (the caller answers 422 ENVELOPE_NOT_SIGNED). */
export function decryptVerifyResponse(opened: OpenedEnvelope): DecryptVerifyResponse | undefined {
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
    signature: Buffer.from(sig.signature.buffer, sig.signature.byteOffset, sig.signature.byteLength).toString('base64url'),
    ...(valid ? {} : { repudiator: sig.signerName, signature_error: sig.reason ?? 'SIGNATURE_MISMATCH' }),
  };
}

/**
 * `frame.prefix` + JSON of `value` + `frame.suffix` as UTF-8, in a buffer of its own (not a slice of
 * Buffer's shared pool) so that it can be transferred between threads.
 */
export function frameJson(frame: JsonFrame, value: DecryptResponse | DecryptVerifyResponse): Buffer {
  return ownBuffer(frame.prefix + JSON.stringify(value) + frame.suffix);
}

/** The seal answer without a JSON.stringify pass over the envelope: base64url and hex never need escaping. */
export function frameSealJson(frame: JsonFrame, answer: SealResponse): Buffer {
  return ownBuffer(`${frame.prefix}{"encrypted_data":"${answer.encrypted_data}","envelope_id":"${answer.envelope_id}"}${frame.suffix}`);
}

function ownBuffer(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text);
  return bytes;
}

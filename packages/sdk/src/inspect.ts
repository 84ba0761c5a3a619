import { bytesToHex, formatMicros, inspectEnvelope as parseEnvelope, malformed, type ContentType, type PermissionGrant } from './envelope/index.js';

/**
 * What anyone holding an envelope string can read without keys: the clear header, parsed by the
 * format module the server uses (`@pqseal/sdk/envelope`). Not authenticated by itself.
 */

export type EnvelopePermission = PermissionGrant;

export interface EnvelopeHeaderInfo {
  readonly version: number;
  readonly suite: number;
  /** 32 lowercase hex characters (the `envelope_id` of the API). */
  readonly envelopeId: string;
  readonly createdAtMicros: bigint;
  /** ISO 8601 with microseconds and `+00:00`, the format of `signed_timestamp`. */
  readonly createdAt: string;
  readonly contentType: ContentType;
  /** The organisation the envelope is encrypted to (its owner). */
  readonly ownerOrgId: string;
  readonly kemKeyId: string;
  readonly permissions: readonly EnvelopePermission[];
  /** The exact header bytes, as signed. */
  readonly headerBytes: Uint8Array;
}

/** AES-GCM tag: an envelope shorter than header + KEM ciphertext + 1 inner byte + tag cannot open. */
const AEAD_TAG_LENGTH = 16;

/** Parses the header of an `encrypted_data` string. Throws EnvelopeError (code ENVELOPE_*). */
export function inspectEnvelope(encryptedData: string): EnvelopeHeaderInfo {
  const parsed = parseEnvelope(encryptedData);
  if (parsed.aeadCipherText.length < 1 + AEAD_TAG_LENGTH) throw malformed('truncated ciphertext');
  const { header } = parsed;
  return {
    version: header.version,
    suite: header.suite,
    envelopeId: bytesToHex(header.envelopeId),
    createdAtMicros: header.createdAtMicros,
    createdAt: formatMicros(header.createdAtMicros),
    contentType: header.contentType,
    ownerOrgId: header.ownerOrgId,
    kemKeyId: header.kemKeyId,
    permissions: header.permissions,
    headerBytes: parsed.aad.slice(0, parsed.aad.length - parsed.kemCipherText.length),
  };
}

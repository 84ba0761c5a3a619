import { concatBytes, uintBE, utf8 } from './bytes.js';
import { ByteReader, lp32, lp8 } from './byte-reader.js';
import { EnvelopeError, malformed } from './errors.js';
import { decodePermissions, type PermissionGrant } from './permissions.js';

/**
 * Envelope byte layout, v1 and v2 alike (docs/envelope.md §Layout; they differ inside the ciphertext):
 *
 *   version u8 = 1 or 2 | suite u8 = 1 | envelope_id [16] | created_at u64 (µs) | content_type u8
 *   | owner_org_id lp8 | kem_key_id lp8 | permissions lp32
 *   | kem_ciphertext [1120] | aead_ciphertext (inner || tag)
 *
 * Everything before aead_ciphertext is the AEAD associated data.
 */

/** v1: one signature and one encapsulation per envelope. v2: batch-signed, encapsulation shared by a batch. */
export type EnvelopeVersion = 1 | 2;
export const ENVELOPE_VERSION_1 = 1;
export const ENVELOPE_VERSION_2 = 2;
/** X-Wing ciphertext (draft-connolly-cfrg-xwing-kem): ML-KEM-768 ciphertext (1088) || X25519 ephemeral key (32). */
export const XWING_CIPHERTEXT_LENGTH = 1088 + 32;
/** X-Wing KEM, HKDF-SHA-256, AES-256-GCM; signatures composite ML-DSA-65 + Ed25519 (SHA-512). */
export const SUITE_XWING_AES256GCM_MLDSA65ED25519 = 1;

export type ContentType = 'text' | 'binary';
const CONTENT_TYPES: readonly ContentType[] = ['text', 'binary'];

/** Identifiers are short printable ASCII so that they stay unambiguous in logs and URLs. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export interface EnvelopeHeader {
  readonly version: EnvelopeVersion;
  readonly suite: number;
  readonly envelopeId: Uint8Array;
  readonly createdAtMicros: bigint;
  readonly contentType: ContentType;
  readonly ownerOrgId: string;
  readonly kemKeyId: string;
  readonly permissions: readonly PermissionGrant[];
}

export interface ParsedEnvelope {
  readonly header: EnvelopeHeader;
  /** Raw permission bytes exactly as bound (signed and authenticated). */
  readonly permissionBytes: Uint8Array;
  readonly kemCipherText: Uint8Array;
  /** Associated data: every byte before the AEAD ciphertext. */
  readonly aad: Uint8Array;
  readonly aeadCipherText: Uint8Array;
}

export function assertIdentifier(value: string, what: string): void {
  if (!ID_PATTERN.test(value)) throw new RangeError(`${what} must match ${ID_PATTERN}`);
}

export function encodeHeader(header: EnvelopeHeader, permissionBytes: Uint8Array): Uint8Array {
  assertIdentifier(header.ownerOrgId, 'owner organisation id');
  assertIdentifier(header.kemKeyId, 'KEM key id');
  return concatBytes(
    new Uint8Array([header.version, header.suite]),
    header.envelopeId,
    uintBE(header.createdAtMicros, 8),
    new Uint8Array([CONTENT_TYPES.indexOf(header.contentType)]),
    ...lp8(utf8.encode(header.ownerOrgId)),
    ...lp8(utf8.encode(header.kemKeyId)),
    ...lp32(permissionBytes),
  );
}

export function parseEnvelopeBytes(bytes: Uint8Array, maxPermissionBytes: number): ParsedEnvelope {
  const r = new ByteReader(bytes);
  const { header, permissionBytes } = readHeader(r, maxPermissionBytes);
  const kemCipherText = r.take(XWING_CIPHERTEXT_LENGTH, 'KEM ciphertext');
  const aad = bytes.subarray(0, r.position);
  const aeadCipherText = r.rest();
  return { header, permissionBytes, kemCipherText, aad, aeadCipherText };
}

/** The header alone, from bytes that may stop anywhere after it (a prefix of the envelope). */
export function parseEnvelopeHeader(bytes: Uint8Array, maxPermissionBytes: number): EnvelopeHeader {
  return readHeader(new ByteReader(bytes), maxPermissionBytes).header;
}

function readHeader(r: ByteReader, maxPermissionBytes: number): { header: EnvelopeHeader; permissionBytes: Uint8Array } {
  const rawVersion = r.u8('version');
  if (rawVersion !== ENVELOPE_VERSION_1 && rawVersion !== ENVELOPE_VERSION_2) {
    throw new EnvelopeError('ENVELOPE_UNSUPPORTED_VERSION', `envelope version ${rawVersion} is not supported`);
  }
  const version: EnvelopeVersion = rawVersion === ENVELOPE_VERSION_1 ? 1 : 2;
  const suite = r.u8('suite');
  if (suite !== SUITE_XWING_AES256GCM_MLDSA65ED25519) {
    throw new EnvelopeError('ENVELOPE_UNSUPPORTED_SUITE', `algorithm suite ${suite} is not supported`);
  }
  const envelopeId = r.take(16, 'envelope id');
  const createdAtMicros = r.u64('creation time');
  const contentType = CONTENT_TYPES[r.u8('content type')];
  if (contentType === undefined) throw malformed('unknown content type');
  const ownerOrgId = readIdentifier(r, 'owner organisation id');
  const kemKeyId = readIdentifier(r, 'KEM key id');
  const permissionLength = r.u32('permission list length');
  if (permissionLength > maxPermissionBytes) throw malformed('permission list too long');
  const permissionBytes = r.take(permissionLength, 'permission list');
  const permissions = decodePermissions(permissionBytes);
  return { header: { version, suite, envelopeId, createdAtMicros, contentType, ownerOrgId, kemKeyId, permissions }, permissionBytes };
}

export function readIdentifier(r: ByteReader, what: string): string {
  const value = r.ascii(what);
  if (!ID_PATTERN.test(value)) throw malformed(`${what} is not a valid identifier`);
  return value;
}

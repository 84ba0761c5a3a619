/**
 * A second, dependency-free reading of the envelope header (docs/envelope.md §Layout) for the SDK:
 * it runs in browsers, so it uses no Buffer and nothing from the server's src/envelope/ (which
 * does). It reads only what is in the clear — the header — never the encrypted part.
 *
 *   version u8 | suite u8 | envelope_id [16] | created_at u64 (µs) | content_type u8
 *   | owner_org_id lp8 | kem_key_id lp8 | permissions lp32 | kem_ciphertext [1120] | aead …
 */

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_SUITE = 1;
const KEM_CIPHERTEXT_LENGTH = 1120;
const AEAD_TAG_LENGTH = 16;
/** The server refuses envelope strings longer than this (16 MiB + 64 KiB + 8 KiB, as base64). */
export const MAX_ENVELOPE_CHARS = Math.ceil(((16 * 1024 * 1024 + 64 * 1024 + 8 * 1024) * 4) / 3);
const MAX_PERMISSION_BYTES = 64 * 1024;
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export class EnvelopeFormatError extends Error {
  constructor(
    readonly code: 'ENVELOPE_MALFORMED' | 'ENVELOPE_UNSUPPORTED_VERSION' | 'ENVELOPE_UNSUPPORTED_SUITE' | 'ENVELOPE_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'EnvelopeFormatError';
  }
}

const malformed = (message: string) => new EnvelopeFormatError('ENVELOPE_MALFORMED', message);

export interface EnvelopePermission {
  readonly partnerId: string;
  readonly actions: readonly string[];
  readonly expiresAt?: string | undefined;
}

/** What anyone holding an envelope string can read without keys. Not authenticated by itself. */
export interface EnvelopeHeaderInfo {
  readonly version: number;
  readonly suite: number;
  /** 32 lowercase hex characters (the `envelope_id` of the API). */
  readonly envelopeId: string;
  readonly createdAtMicros: bigint;
  /** ISO 8601 with microseconds and `+00:00`, the format of `signed_timestamp`. */
  readonly createdAt: string;
  readonly contentType: 'text' | 'binary';
  /** The organisation the envelope is encrypted to (its owner). */
  readonly ownerOrgId: string;
  readonly kemKeyId: string;
  readonly permissions: readonly EnvelopePermission[];
  /** The exact header bytes, as signed. */
  readonly headerBytes: Uint8Array;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** URL-safe base64 without padding, strictly (as the server decodes it): one string per byte string. */
export function decodeBase64Url(text: string): Uint8Array {
  const rest = text.length % 4;
  if (rest === 1) throw malformed('impossible base64 length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (DECODE[c] as number) : -1;
    if (v < 0) throw malformed('not URL-safe base64 without padding');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) throw malformed('non-canonical base64 encoding');
  return out;
}

/** Standard base64 (with padding), for `data_encoding: "base64"` payloads. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(clean)) throw malformed('not base64');
  return decodeBase64Url(clean.replace(/\+/g, '-').replace(/\//g, '_'));
}

export const utf8Encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** `2025-10-19T17:28:27.659100+00:00` from microseconds since the epoch (as the server formats it). */
export function formatMicros(micros: bigint): string {
  const iso = new Date(Number(micros / 1000n)).toISOString();
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0');
  return `${iso.slice(0, 19)}.${fraction}+00:00`;
}

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (n > this.bytes.length - this.offset) throw malformed(`truncated ${what}`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(what: string): number {
    return this.take(1, what)[0] as number;
  }
  u32(what: string): number {
    const b = this.take(4, what);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  u64(what: string): bigint {
    const b = this.take(8, what);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
  }
  identifier(what: string): string {
    const raw = this.take(this.u8(what), what);
    const value = String.fromCharCode(...raw);
    if (!ID_PATTERN.test(value)) throw malformed(`${what} is not a valid identifier`);
    return value;
  }
}

/** Parses the header of an `encrypted_data` string. Throws EnvelopeFormatError. */
export function inspectEnvelope(encryptedData: string): EnvelopeHeaderInfo {
  if (typeof encryptedData !== 'string') throw malformed('not a string');
  if (encryptedData.length > MAX_ENVELOPE_CHARS) throw new EnvelopeFormatError('ENVELOPE_TOO_LARGE', 'envelope exceeds the size limit');
  const bytes = decodeBase64Url(encryptedData);
  const r = new Reader(bytes);
  const version = r.u8('version');
  if (version !== ENVELOPE_VERSION) throw new EnvelopeFormatError('ENVELOPE_UNSUPPORTED_VERSION', `envelope version ${version} is not supported`);
  const suite = r.u8('suite');
  if (suite !== ENVELOPE_SUITE) throw new EnvelopeFormatError('ENVELOPE_UNSUPPORTED_SUITE', `algorithm suite ${suite} is not supported`);
  const envelopeId = toHex(r.take(16, 'envelope id'));
  const createdAtMicros = r.u64('creation time');
  const contentTypeByte = r.u8('content type');
  if (contentTypeByte > 1) throw malformed('unknown content type');
  const ownerOrgId = r.identifier('owner organisation id');
  const kemKeyId = r.identifier('KEM key id');
  const permissionLength = r.u32('permission list length');
  if (permissionLength > MAX_PERMISSION_BYTES) throw malformed('permission list too long');
  const permissions = decodePermissions(r.take(permissionLength, 'permission list'));
  const headerBytes = bytes.slice(0, r.offset);
  r.take(KEM_CIPHERTEXT_LENGTH, 'KEM ciphertext');
  if (bytes.length - r.offset < 1 + AEAD_TAG_LENGTH) throw malformed('truncated ciphertext');
  return {
    version,
    suite,
    envelopeId,
    createdAtMicros,
    createdAt: formatMicros(createdAtMicros),
    contentType: contentTypeByte === 0 ? 'text' : 'binary',
    ownerOrgId,
    kemKeyId,
    permissions,
    headerBytes,
  };
}

/** Canonical JSON `[{"partner_id","permissions","expires_at"?}]`; anything else is malformed. */
function decodePermissions(bytes: Uint8Array): EnvelopePermission[] {
  if (bytes.length === 0) return [];
  let text: string;
  let parsed: unknown;
  try {
    text = utf8Strict.decode(bytes);
    parsed = JSON.parse(text);
  } catch {
    throw malformed('permission list is not JSON');
  }
  if (!Array.isArray(parsed)) throw malformed('permission list is not an array');
  const grants = parsed.map((item: unknown): EnvelopePermission => {
    if (typeof item !== 'object' || item === null) throw malformed('permission entry is not an object');
    const { partner_id, permissions, expires_at } = item as Record<string, unknown>;
    if (typeof partner_id !== 'string') throw malformed('permission entry has no partner_id');
    if (!Array.isArray(permissions) || !permissions.every((a): a is string => typeof a === 'string')) throw malformed('permission entry has no action list');
    if (expires_at !== undefined && typeof expires_at !== 'string') throw malformed('permission expires_at is not a string');
    return expires_at === undefined ? { partnerId: partner_id, actions: permissions } : { partnerId: partner_id, actions: permissions, expiresAt: expires_at };
  });
  const canonical = JSON.stringify(
    grants.map((g) =>
      g.expiresAt === undefined
        ? { partner_id: g.partnerId, permissions: g.actions }
        : { partner_id: g.partnerId, permissions: g.actions, expires_at: g.expiresAt },
    ),
  );
  if (canonical !== text) throw malformed('permission list is not canonical');
  return grants;
}

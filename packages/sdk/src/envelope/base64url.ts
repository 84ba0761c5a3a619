import { decode, encode } from '#base64';
import { malformed } from './errors.js';

/**
 * URL-safe base64 without padding (RFC 4648 §5), decoded strictly: one text per byte string. The
 * codec itself is Node's Buffer under the "node" condition and plain JavaScript elsewhere (#base64);
 * the checks here hold for both. (A regular expression over a 20 MiB envelope costs more than the
 * whole decryption, hence the plain scans.)
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function encodeBase64Url(bytes: Uint8Array): string {
  return encode(bytes);
}

/** Rejects foreign characters, impossible lengths and non-canonical trailing bits. */
export function decodeBase64Url(text: string): Uint8Array {
  const rest = text.length % 4;
  if (rest === 1) throw malformed('impossible base64 length');
  if (text.includes('+') || text.includes('/') || text.includes('=')) throw malformed('not URL-safe base64 without padding');
  if (rest !== 0) {
    const last = ALPHABET.indexOf(text[text.length - 1] as string);
    const unusedBits = rest === 2 ? 0x0f : 0x03;
    if ((last & unusedBits) !== 0) throw malformed('non-canonical base64 encoding');
  }
  const bytes = decode(text);
  if (bytes === undefined) throw malformed('not URL-safe base64 without padding');
  return bytes;
}

/** Standard base64 with optional padding (RFC 4648 §4), for `data_encoding: "base64"` payloads. */
export function decodeBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  if (/[^A-Za-z0-9+/]/.test(clean)) throw malformed('not base64');
  return decodeBase64Url(clean.replace(/\+/g, '-').replace(/\//g, '_'));
}

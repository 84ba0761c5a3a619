import { malformed } from './errors.js';

/** URL-safe base64 without padding (RFC 4648 §5), decoded strictly: Buffer's decoder silently skips junk. */

const INDEX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Rejects foreign characters, impossible lengths and non-canonical trailing bits. Buffer's decoder
 * skips characters outside the alphabet, so any such character shows up as a short decode; '+', '/'
 * and '=' are the only ones it accepts beyond the URL-safe alphabet, so they are refused explicitly.
 * (A regular expression over a 20 MiB envelope costs more than the whole decryption.)
 */
export function decodeBase64Url(text: string): Uint8Array {
  const rest = text.length % 4;
  if (rest === 1) throw malformed('impossible base64 length');
  if (text.includes('+') || text.includes('/') || text.includes('=')) throw malformed('not URL-safe base64 without padding');
  if (rest !== 0) {
    const last = INDEX.indexOf(text[text.length - 1] as string);
    const unusedBits = rest === 2 ? 0x0f : 0x03;
    if ((last & unusedBits) !== 0) throw malformed('non-canonical base64 encoding');
  }
  const buf = Buffer.from(text, 'base64url');
  if (buf.length !== Math.floor((text.length * 3) / 4)) throw malformed('not URL-safe base64 without padding');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

import { randomBytes } from 'node:crypto';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters of random lowercase base32 (5 bits each). */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 32 divides 256, so masking the low five bits is unbiased.
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

/** `length` characters of random base62 (≈5.95 bits each), unbiased by rejection sampling. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b >= 248) continue; // 248 = 4 × 62: larger bytes would favour the first symbols
      out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A new identifier such as `org_k3v9…` (prefix, underscore, 20 base32 characters = 100 random bits). */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase32(20)}`;
}

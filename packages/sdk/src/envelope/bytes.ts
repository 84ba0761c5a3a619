/** Byte helpers of the format, on Uint8Array only (Web APIs every runtime has). */

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export const utf8 = {
  encode: (text: string): Uint8Array => encoder.encode(text),
  /** Replaces ill-formed sequences with U+FFFD; callers that need exactness compare the round trip. */
  decode: (bytes: Uint8Array): string => decoder.decode(bytes),
};

/** Big-endian unsigned integer of `width` bytes. */
export function uintBE(value: number | bigint, width: 1 | 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(width);
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(width * 8)) throw new RangeError(`value does not fit in ${width} bytes`);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

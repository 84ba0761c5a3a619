/** Small byte helpers shared by the crypto and envelope layers. */

// One implementation, the envelope format module's (runtime-neutral).
export { concatBytes } from '@pqseal/sdk/envelope';

/** A plain Uint8Array view over the same memory (some libraries reject Buffer subclasses). */
export function asPlainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function hexToBytes(hex: string): Uint8Array {
  return asPlainBytes(Buffer.from(hex, 'hex'));
}

export function bytesToHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export const utf8 = {
  encode: (s: string): Uint8Array => asPlainBytes(Buffer.from(s, 'utf8')),
  decode: (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'),
};

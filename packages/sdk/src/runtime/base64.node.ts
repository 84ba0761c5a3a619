/**
 * URL-safe base64 through Node's Buffer (native, several times faster than JavaScript on a 20 MiB
 * envelope). Selected by the "node" condition of the package's "#base64" import; same contract as
 * base64.browser.ts. The package compiles without Node's types, so the little of Buffer used is declared here.
 */

interface NodeBuffer extends Uint8Array {
  toString(encoding?: 'base64url'): string;
}
interface NodeBufferConstructor {
  from(text: string, encoding: 'base64url'): NodeBuffer;
  from(memory: ArrayBufferLike, byteOffset: number, length: number): NodeBuffer;
}
const { Buffer } = globalThis as unknown as { readonly Buffer: NodeBufferConstructor };

export function encode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Buffer skips characters outside the alphabet, so any such character shows up as a short decode. */
export function decode(text: string): Uint8Array | undefined {
  const buf = Buffer.from(text, 'base64url');
  if (buf.length !== Math.floor((text.length * 3) / 4)) return undefined;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

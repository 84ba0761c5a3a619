import { LEAF_SALT_BYTES, MAX_BATCH_SIZE, MERKLE_NODE_BYTES, decodeBase64Url, inclusionPathLength, type BatchProof } from './envelope/index.js';

/**
 * The `batch_proof` decrypt-verify gives for a v2 envelope (docs/envelope.md §Envelope v2): what ties the
 * envelope's signed message to the batch root its signature covers. Wire (snake_case) or SDK
 * (camelCase) spelling; bytes are base64url.
 */
export type BatchProofInput =
  | { readonly leaf_salt: string; readonly batch_size: number; readonly leaf_index: number; readonly path: readonly string[] }
  | { readonly leafSalt: string; readonly batchSize: number; readonly leafIndex: number; readonly path: readonly string[] };

/** The SDK's spelling, as `Client#decryptVerify` returns it. */
export interface BatchProofClaim {
  readonly leafSalt: string;
  readonly batchSize: number;
  readonly leafIndex: number;
  readonly path: readonly string[];
}

/** Decodes a batch proof exactly as the envelope format encodes one; throws a TypeError naming what is wrong. */
export function decodeBatchProof(input: unknown): BatchProof {
  if (typeof input !== 'object' || input === null) throw new TypeError('the batch proof is not an object');
  const o = input as Record<string, unknown>;
  const pick = (camel: string, snake: string): unknown => (o[camel] !== undefined ? o[camel] : o[snake]);
  const size = pick('batchSize', 'batch_size');
  const index = pick('leafIndex', 'leaf_index');
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) throw new TypeError('the batch proof has no valid batch size');
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= size) throw new TypeError('the batch proof has no valid leaf index');
  const leafSalt = bytesOf(pick('leafSalt', 'leaf_salt'), LEAF_SALT_BYTES, 'leaf salt');
  const path = o.path;
  if (!Array.isArray(path)) throw new TypeError('the batch proof has no path');
  if (path.length !== inclusionPathLength(index, size)) {
    throw new TypeError(`the batch proof's path has ${path.length} nodes, leaf ${index} of ${size} has ${inclusionPathLength(index, size)}`);
  }
  return { leafSalt, size, index, path: path.map((node: unknown) => bytesOf(node, MERKLE_NODE_BYTES, 'path node')) };
}

function bytesOf(value: unknown, length: number, what: string): Uint8Array {
  if (typeof value !== 'string') throw new TypeError(`the batch proof has no ${what}`);
  let bytes: Uint8Array;
  try {
    bytes = decodeBase64Url(value);
  } catch {
    throw new TypeError(`the batch proof's ${what} is not base64url`);
  }
  if (bytes.length !== length) throw new TypeError(`the batch proof's ${what} is not ${length} bytes`);
  return bytes;
}

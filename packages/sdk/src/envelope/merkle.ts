/**
 * The Merkle tree of RFC 9162 §2.1 (Certificate Transparency v2), over SHA-256 supplied by the caller
 * so this module stays free of crypto implementations:
 *
 *   MTH({d0})   = HASH(0x00 || d0)
 *   MTH(D[n])   = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n])),  k = the largest power of two < n
 *
 * Leaf and interior hashes are domain-separated by their first byte, so no interior node can be
 * presented as a leaf (second-preimage attacks on the tree, RFC 9162 §2.1.1).
 */

/** SHA-256 over the concatenation of `parts`. */
export type Sha256 = (...parts: readonly Uint8Array[]) => Uint8Array;

export const MERKLE_NODE_BYTES = 32;
const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

export function leafHash(sha256: Sha256, ...entry: readonly Uint8Array[]): Uint8Array {
  return sha256(LEAF, ...entry);
}

function nodeHash(sha256: Sha256, left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE, left, right);
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The root over already hashed leaves and every leaf's inclusion path (RFC 9162 §2.1.3.1 PATH(m, D[n]),
 * listed from the leaf up), in one pass: n − 1 interior hashes.
 */
export function merkleTree(sha256: Sha256, leaves: readonly Uint8Array[]): { root: Uint8Array; paths: Uint8Array[][] } {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const paths: Uint8Array[][] = leaves.map(() => []);
  const build = (start: number, end: number): Uint8Array => {
    if (end - start === 1) return leaves[start] as Uint8Array;
    const k = largestPowerOfTwoBelow(end - start);
    const left = build(start, start + k);
    const right = build(start + k, end);
    for (let i = start; i < start + k; i++) (paths[i] as Uint8Array[]).push(right);
    for (let i = start + k; i < end; i++) (paths[i] as Uint8Array[]).push(left);
    return nodeHash(sha256, left, right);
  };
  return { root: build(0, leaves.length), paths };
}

/**
 * The root an inclusion path leads to (RFC 9162 §2.1.3.2), or undefined when the path cannot belong to
 * leaf `index` of a tree of `size` leaves (wrong length): the caller compares the root with a signed one.
 */
export function rootFromPath(sha256: Sha256, leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Uint8Array | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(sha256, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(sha256, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/** How many nodes the inclusion path of leaf `index` in a tree of `size` leaves has (the same walk, no hashing). */
export function inclusionPathLength(index: number, size: number): number {
  let fn = index;
  let sn = size - 1;
  let length = 0;
  while (sn > 0) {
    if (fn % 2 === 1 || fn === sn) {
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    length++;
  }
  return length;
}

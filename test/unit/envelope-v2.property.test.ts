import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { verifyOffline } from '@pqseal/sdk';
import {
  BATCH_SIGNATURE_CONTEXT,
  MAX_BATCH_SIZE,
  MAX_PERMISSION_BYTES,
  batchSignedRootMessage,
  concatBytes,
  decodeBase64Url,
  decodeInner,
  encodeBase64Url,
  encodeInnerPrefix,
  inclusionPathLength,
  merkleTree,
  parseEnvelopeBytes,
  rootFromPath,
  signedMessage,
  type BatchProof,
  type InnerSignature,
} from '@pqseal/sdk/envelope';
import { aesGcmOpen, aesGcmSeal } from '../../src/crypto/aes-gcm.js';
import { utf8 } from '../../src/crypto/bytes.js';
import { sha256, sha512 } from '../../src/crypto/hash.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { EnvelopeError, LruMemo, open, seal, sealBatch, verifySignature, type OpenKeys } from '../../src/envelope/index.js';
import { deriveAeadKey } from '../../src/envelope/key-schedule.js';
import { keysFor, makeOrg, recipientOf, signerOf, type TestOrg } from '../helpers/org-keys.js';

/**
 * Envelope v2's batch signatures under tampering (docs/envelope.md §Envelope v2). The inclusion proof
 * travels inside the AEAD, so only the recipient could alter it; these properties check the
 * verification itself three ways: the format module's M_root + composite verification, `open()`
 * on envelopes the test re-seals with an altered inner structure (it holds the recipient's key), and
 * the SDK's offline verification with an altered `batch_proof`.
 */

const BATCH = 7;
let p: CryptoProviders;
let owner: TestOrg;
let sender: TestOrg;

/** One sealed v2 envelope with what the test needs to tamper with it. */
interface Sealed {
  readonly envelope: string;
  readonly plaintext: string;
  /** M_i, the message in the envelope's leaf. */
  readonly message: Uint8Array;
  readonly signed: InnerSignature & { readonly batch: BatchProof };
  readonly payload: Uint8Array;
}

let batchA: Sealed[];
let batchB: Sealed[];

function sealSigned(texts: readonly string[], signer: TestOrg = sender): string[] {
  return sealBatch(p, { items: texts.map((plaintext) => ({ plaintext })), recipient: recipientOf(owner), signer: signerOf(signer) }).map((o) => {
    if (o instanceof Error) throw o;
    return o.envelope;
  });
}

/** Decrypts with the recipient's key and re-encrypts `inner` under the same key and nonce (as only the recipient could). */
function unseal(envelope: string) {
  const bytes = decodeBase64Url(envelope);
  const parsed = parseEnvelopeBytes(bytes, MAX_PERMISSION_BYTES);
  const sharedSecret = p.xWing.decapsulate(parsed.kemCipherText, owner.kem);
  const { key, nonce } = deriveAeadKey(sharedSecret, parsed.header.envelopeId, parsed.header.version, parsed.header.suite);
  const inner = aesGcmOpen(key, nonce, parsed.aeadCipherText, parsed.aad);
  const headerBytes = parsed.aad.subarray(0, parsed.aad.length - parsed.kemCipherText.length);
  return { parsed, sharedSecret, key, nonce, inner, headerBytes };
}

/** The envelope re-sealed with another inner structure and, optionally, another version byte (a recipient forging). */
function reseal(envelope: string, inner: Uint8Array, version?: 1 | 2): string {
  const { parsed, sharedSecret } = unseal(envelope);
  const aad = parsed.aad.slice();
  if (version !== undefined) aad[0] = version;
  const { key, nonce } = deriveAeadKey(sharedSecret, parsed.header.envelopeId, aad[0] as number, parsed.header.suite);
  return encodeBase64Url(aesGcmSeal(key, nonce, [inner], aad, aad));
}

function describeEnvelope(envelope: string, plaintext: string): Sealed {
  const { inner, headerBytes } = unseal(envelope);
  const { signed, payload } = decodeInner(inner, 2);
  if (!signed?.batch) throw new Error('not a batch-signed envelope');
  return { envelope, plaintext, signed: { ...signed, batch: signed.batch }, payload, message: signedMessage(headerBytes, signed.signer, sha512(payload), 2) };
}

/** The format module's verification: M_root from M_i and the proof, then σ over it. */
function verifies(message: Uint8Array, proof: BatchProof, signature: Uint8Array, signer: TestOrg = sender): boolean {
  const rootMessage = batchSignedRootMessage(sha256, message, proof);
  return rootMessage !== undefined && p.composite.verify(signer.verifying, rootMessage, signature, BATCH_SIGNATURE_CONTEXT);
}

function memoKeys(): OpenKeys {
  return { ...keysFor(owner, [owner, sender]), sharedSecrets: new LruMemo<Uint8Array>(16), verifiedRoots: new LruMemo<true>(16) };
}

/** The open() outcome a forged envelope may have: never a valid signature. */
function statusOf(envelope: string, keys: OpenKeys): string {
  try {
    return open(p, envelope, keys).signature.status;
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    return e.code;
  }
}

const flip = (bytes: Uint8Array, at: number, bit: number): Uint8Array => {
  const out = bytes.slice();
  out[at % out.length] = (out[at % out.length] as number) ^ (1 << bit);
  return out;
};

before(async () => {
  p = await loadProviders('fastest');
  owner = makeOrg(p, 'org_owner', 'Owner Org');
  sender = makeOrg(p, 'org_sender', 'Sender Org');
  const texts = (label: string) => Array.from({ length: BATCH }, (_, i) => `${label} message ${i}`);
  batchA = sealSigned(texts('A')).map((e, i) => describeEnvelope(e, `A message ${i}`));
  batchB = sealSigned(texts('B')).map((e, i) => describeEnvelope(e, `B message ${i}`));
  for (const s of [...batchA, ...batchB]) assert.equal(verifies(s.message, s.signed.batch, s.signed.signature), true, 'the untouched proofs verify');
});

type ProofChange =
  | { kind: 'salt'; at: number; bit: number }
  | { kind: 'node'; node: number; at: number; bit: number }
  | { kind: 'index'; index: number }
  | { kind: 'size'; size: number }
  | { kind: 'drop-node' }
  | { kind: 'add-node'; node: Uint8Array };

const proofChange: fc.Arbitrary<ProofChange> = fc.oneof(
  fc.record({ kind: fc.constant('salt' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('node' as const), node: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('index' as const), index: fc.oneof(fc.nat({ max: BATCH * 2 }), fc.nat({ max: 0xffffffff })) }),
  fc.record({ kind: fc.constant('size' as const), size: fc.oneof(fc.integer({ min: 1, max: BATCH * 2 }), fc.integer({ min: 1, max: MAX_BATCH_SIZE })) }),
  fc.record({ kind: fc.constant('drop-node' as const) }),
  fc.record({ kind: fc.constant('add-node' as const), node: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
);

/** The proof changed, or undefined when the change is a no-op for this proof (fc.pre skips it). */
function changeProof(proof: BatchProof, c: ProofChange): BatchProof | undefined {
  switch (c.kind) {
    case 'salt':
      return { ...proof, leafSalt: flip(proof.leafSalt, c.at, c.bit) };
    case 'node': {
      if (proof.path.length === 0) return undefined;
      const j = c.node % proof.path.length;
      return { ...proof, path: proof.path.map((n, k) => (k === j ? flip(n, c.at, c.bit) : n)) };
    }
    case 'index':
      return c.index === proof.index ? undefined : { ...proof, index: c.index };
    case 'size':
      return c.size === proof.size ? undefined : { ...proof, size: c.size };
    case 'drop-node':
      return proof.path.length === 0 ? undefined : { ...proof, path: proof.path.slice(0, -1) };
    case 'add-node':
      return { ...proof, path: [...proof.path, c.node] };
  }
}

describe('envelope v2 batch proofs under tampering', () => {
  test('changing any bit of the leaf salt or of any path node, the index, the batch size or the path length makes verification fail', () => {
    fc.assert(
      fc.property(fc.nat({ max: BATCH - 1 }), proofChange, (i, c) => {
        const s = batchA[i] as Sealed;
        const changed = changeProof(s.signed.batch, c);
        fc.pre(changed !== undefined);
        assert.equal(verifies(s.message, changed, s.signed.signature), false);
      }),
      { numRuns: 600 },
    );
  });

  test('changing any bit of the signature, or of M_root (the batch size and the root the path leads to), makes verification fail', () => {
    fc.assert(
      fc.property(fc.nat({ max: BATCH - 1 }), fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }), (i, inSignature, at, bit) => {
        const s = batchA[i] as Sealed;
        const rootMessage = batchSignedRootMessage(sha256, s.message, s.signed.batch) as Uint8Array;
        const [message, signature] = inSignature ? [rootMessage, flip(s.signed.signature, at, bit)] : [flip(rootMessage, at, bit), s.signed.signature];
        assert.equal(p.composite.verify(sender.verifying, message, signature, BATCH_SIGNATURE_CONTEXT), false);
      }),
      { numRuns: 400 },
    );
  });

  test('a proof (and signature) from one batch never verifies an envelope of another', () => {
    fc.assert(
      fc.property(fc.nat({ max: BATCH - 1 }), fc.nat({ max: BATCH - 1 }), fc.boolean(), fc.boolean(), (i, j, ownSignature, ownSalt) => {
        const a = batchA[i] as Sealed;
        const b = batchB[j] as Sealed;
        const proof = { ...b.signed.batch, ...(ownSalt ? { leafSalt: a.signed.batch.leafSalt } : {}) };
        assert.equal(verifies(a.message, proof, ownSignature ? a.signed.signature : b.signed.signature), false);
      }),
      { numRuns: 200 },
    );
    // Every pair, exhaustively, for the proof and signature of the other batch.
    for (const a of batchA) for (const b of batchB) assert.equal(verifies(a.message, b.signed.batch, b.signed.signature), false);
  });

  test('open(): an envelope re-sealed with any bit of its inner structure changed never verifies, with warm memos', () => {
    const keys = memoKeys();
    for (const s of batchA) assert.equal(open(p, s.envelope, keys).signature.status, 'valid');
    const inners = batchA.map((s) => unseal(s.envelope).inner);
    const statuses = new Set<string>();
    fc.assert(
      fc.property(fc.nat({ max: BATCH - 1 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (i, at, bit) => {
        const inner = inners[i] as Uint8Array;
        const status = statusOf(reseal((batchA[i] as Sealed).envelope, flip(inner, at, bit), 2), keys);
        statuses.add(status);
        // A recipient turning kind 2 into 0 makes an unsigned envelope: allowed (anyone can seal unsigned ones to it).
        assert.notEqual(status, 'valid');
      }),
      { numRuns: 400 },
    );
    assert.ok(statuses.has('invalid'), `re-sealed tampering reached signature verification (saw ${[...statuses].join(', ')})`);
    for (const s of batchA) assert.equal(open(p, s.envelope, keys).signature.status, 'valid', 'the memos still hold the genuine batch');
  });

  test('open(): an envelope re-sealed with the proof of an envelope of another batch does not verify', () => {
    const keys = memoKeys();
    for (const s of [...batchA, ...batchB]) assert.equal(open(p, s.envelope, keys).signature.status, 'valid');
    for (const [i, a] of batchA.entries()) {
      const b = batchB[(i * 3) % BATCH] as Sealed;
      for (const signature of [a.signed.signature, b.signed.signature]) {
        const inner = concatBytes(encodeInnerPrefix({ signer: a.signed.signer, signature, batch: b.signed.batch }, 2), a.payload);
        const opened = open(p, reseal(a.envelope, inner), keys);
        assert.equal(opened.signature.status, 'invalid');
        assert.equal(utf8.decode(opened.plaintext), a.plaintext);
      }
    }
  });
});

describe('the verified-roots memo', () => {
  test('never turns a wrong signature over a memoised root valid (same root, any other σ)', () => {
    const s = batchA[0] as Sealed;
    const input = open(p, s.envelope, keysFor(owner, [sender])).signatureInput;
    assert.ok(input?.memoKey);
    const roots = new LruMemo<true>(4);
    assert.equal(verifySignature(p, sender.verifying, input, s.signed.signature, roots), true);
    assert.equal(roots.size, 1);
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        assert.equal(verifySignature(p, sender.verifying, input, flip(s.signed.signature, at, bit), roots), false);
      }),
      { numRuns: 300 },
    );
    assert.equal(roots.size, 1, 'failures are not memoised');
    assert.equal(verifySignature(p, sender.verifying, input, s.signed.signature, roots), true);
  });

  test('open(): a sibling re-sealed with another σ is invalid whether it comes before or after the genuine batch', () => {
    for (const forgedFirst of [true, false]) {
      const keys = memoKeys();
      const [genuine, sibling] = batchA as [Sealed, Sealed];
      const forgedInner = concatBytes(encodeInnerPrefix({ ...sibling.signed, signature: flip(sibling.signed.signature, 100, 3) }, 2), sibling.payload);
      const forged = reseal(sibling.envelope, forgedInner);
      if (forgedFirst) assert.equal(open(p, forged, keys).signature.status, 'invalid');
      assert.equal(open(p, genuine.envelope, keys).signature.status, 'valid');
      assert.equal(open(p, forged, keys).signature.status, 'invalid');
      assert.equal(open(p, sibling.envelope, keys).signature.status, 'valid');
      assert.equal(open(p, forged, keys).signature.status, 'invalid');
    }
  });
});

describe('batch sizes', () => {
  test('RFC 9162 trees of 1…130 leaves: every path leads to the root (checked against the recursive definition) and no other index does', () => {
    const mth = (leaves: readonly Uint8Array[]): Uint8Array => {
      if (leaves.length === 1) return leaves[0] as Uint8Array;
      let k = 1;
      while (k * 2 < leaves.length) k *= 2;
      return sha256(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
    };
    const leaves = Array.from({ length: 130 }, (_, i) => sha256(Uint8Array.of(0), utf8.encode(`leaf ${i}`)));
    for (let n = 1; n <= leaves.length; n++) {
      const { root, paths } = merkleTree(sha256, leaves.slice(0, n));
      assert.deepEqual(root, mth(leaves.slice(0, n)), `size ${n}`);
      for (let i = 0; i < n; i++) {
        const path = paths[i] as Uint8Array[];
        assert.equal(path.length, inclusionPathLength(i, n));
        assert.ok(path.length <= Math.ceil(Math.log2(n)), `size ${n}: path ${path.length} nodes`);
        assert.deepEqual(rootFromPath(sha256, leaves[i] as Uint8Array, i, n, path), root, `size ${n}, index ${i}`);
        for (const j of [i - 1, i + 1, n - 1 - i]) {
          if (j === i || j < 0) continue;
          const other = rootFromPath(sha256, leaves[i] as Uint8Array, j, n, path);
          assert.ok(other === undefined || !Buffer.from(other).equals(root), `size ${n}: leaf ${i}'s path at index ${j}`);
        }
      }
    }
  });

  test('sealed batches of 1…70 envelopes: every envelope opens and verifies, carrying 41 + 32 × path length bytes more than v1', () => {
    const keys = memoKeys();
    const text = (n: number, i: number) => `batch ${String(n).padStart(2, '0')} item ${String(i).padStart(2, '0')}`;
    const v1Length = seal(p, { plaintext: text(1, 0), recipient: recipientOf(owner), signer: signerOf(sender) }).byteLength;
    for (let n = 1; n <= 70; n++) {
      const envelopes = sealSigned(Array.from({ length: n }, (_, i) => text(n, i)));
      envelopes.forEach((envelope, i) => {
        const opened = open(p, envelope, keys);
        assert.equal(utf8.decode(opened.plaintext), text(n, i));
        assert.equal(opened.signature.status, 'valid', `size ${n}, index ${i}`);
        const proof = opened.signature.status === 'valid' ? opened.signature.batch : undefined;
        assert.deepEqual([proof?.size, proof?.index], [n, i]);
        const pathLength = proof?.path.length ?? -1;
        assert.ok(pathLength <= Math.ceil(Math.log2(n)));
        assert.equal(decodeBase64Url(envelope).length, v1Length + 41 + 32 * pathLength, `size ${n}, index ${i}`);
      });
    }
  });
});

describe('versions', () => {
  test('v1 and v2 envelopes, signed and unsigned, open in any order with shared memos', () => {
    const v1Signed = Array.from({ length: 3 }, (_, i) => ({ text: `v1 signed ${i}`, status: 'valid', version: 1 }));
    const v1Plain = [{ text: 'v1 unsigned', status: 'absent', version: 1 }];
    const v2Signed = Array.from({ length: 5 }, (_, i) => ({ text: `v2 signed ${i}`, status: 'valid', version: 2 }));
    const v2Plain = Array.from({ length: 2 }, (_, i) => ({ text: `v2 unsigned ${i}`, status: 'absent', version: 2 }));
    const all = [
      ...v1Signed.map((e) => ({ ...e, envelope: seal(p, { plaintext: e.text, recipient: recipientOf(owner), signer: signerOf(sender) }).envelope })),
      ...v1Plain.map((e) => ({ ...e, envelope: seal(p, { plaintext: e.text, recipient: recipientOf(owner) }).envelope })),
      ...sealSigned(v2Signed.map((e) => e.text)).map((envelope, i) => ({ ...(v2Signed[i] as (typeof v2Signed)[number]), envelope })),
      ...sealBatch(p, { items: v2Plain.map((e) => ({ plaintext: e.text })), recipient: recipientOf(owner) }).map((o, i) => {
        if (o instanceof Error) throw o;
        return { ...(v2Plain[i] as (typeof v2Plain)[number]), envelope: o.envelope };
      }),
    ];
    fc.assert(
      fc.property(fc.shuffledSubarray(all, { minLength: all.length }), (order) => {
        const keys = memoKeys();
        for (const e of order) {
          const opened = open(p, e.envelope, keys);
          assert.deepEqual([utf8.decode(opened.plaintext), opened.signature.status, opened.header.version], [e.text, e.status, e.version]);
        }
      }),
      { numRuns: 25 },
    );
  });

  test('a v2 envelope relabelled v1 and a v1 envelope relabelled v2 fail authentication; re-sealed under the other version, their inner kinds are refused', () => {
    const v2 = (batchA[0] as Sealed).envelope;
    const v1 = seal(p, { plaintext: 'v1', recipient: recipientOf(owner), signer: signerOf(sender) }).envelope;
    const keys = memoKeys();
    for (const [envelope, other] of [
      [v2, 1],
      [v1, 2],
    ] as const) {
      const bytes = decodeBase64Url(envelope);
      bytes[0] = other;
      assert.equal(statusOf(encodeBase64Url(bytes), keys), 'ENVELOPE_AUTH_FAILED');
      // The recipient itself re-sealing the inner structure under the other version's key schedule.
      assert.equal(statusOf(reseal(envelope, unseal(envelope).inner, other), keys), 'ENVELOPE_MALFORMED');
    }
  });
});

describe("the SDK's offline verification of v2", () => {
  const b64 = encodeBase64Url;
  const wireProof = (proof: BatchProof) => ({ leaf_salt: b64(proof.leafSalt), batch_size: proof.size, leaf_index: proof.index, path: proof.path.map(b64) });
  const claimOf = (s: Sealed, proof: BatchProof = s.signed.batch, signature: Uint8Array = s.signed.signature) => ({
    decrypted_data: s.plaintext,
    signed_by: s.signed.signer.displayName,
    signer_org_id: s.signed.signer.orgId,
    signer_key_id: s.signed.signer.keyId,
    signature: b64(signature),
    batch_proof: wireProof(proof),
  });
  const offline = (s: Sealed, claim: ReturnType<typeof claimOf>) =>
    verifyOffline({ decryptVerifyResult: claim, encryptedData: s.envelope, publicKeys: sender.signing.publicKey });

  test('every envelope of both batches verifies with its own batch_proof', () => {
    for (const s of [...batchA, ...batchB]) assert.equal(offline(s, claimOf(s)).valid, true);
  });

  test('a tampered batch_proof, or one from another batch, never verifies', () => {
    fc.assert(
      fc.property(fc.nat({ max: BATCH - 1 }), proofChange, (i, c) => {
        const s = batchA[i] as Sealed;
        const changed = changeProof(s.signed.batch, c);
        fc.pre(changed !== undefined);
        const result = offline(s, claimOf(s, changed));
        assert.equal(result.valid, false);
        assert.ok(result.reason === 'SIGNATURE_MISMATCH' || result.reason === 'MALFORMED', result.reason);
      }),
      { numRuns: 150 },
    );
    for (const [i, a] of batchA.entries()) {
      const b = batchB[i] as Sealed;
      assert.equal(offline(a, claimOf(a, b.signed.batch, b.signed.signature)).reason, 'SIGNATURE_MISMATCH');
      assert.equal(offline(a, claimOf(a, b.signed.batch)).reason, 'SIGNATURE_MISMATCH');
    }
  });

  test('malformed proofs are MALFORMED with a message that says which field', () => {
    const s = batchA[3] as Sealed;
    const good = claimOf(s);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good.batch_proof, leaf_salt: 'not base64!' }, /leaf salt/],
      [{ ...good.batch_proof, leaf_salt: b64(new Uint8Array(31)) }, /leaf salt is not 32 bytes/],
      [{ ...good.batch_proof, batch_size: 0 }, /batch size/],
      [{ ...good.batch_proof, leaf_index: BATCH }, /leaf index/],
      [{ ...good.batch_proof, leaf_index: 1.5 }, /leaf index/],
      [{ ...good.batch_proof, path: 'AAAA' }, /no path/],
      [{ ...good.batch_proof, path: [...good.batch_proof.path, b64(new Uint8Array(32))] }, /path has 4 nodes/],
      [{ ...good.batch_proof, path: good.batch_proof.path.map(() => b64(new Uint8Array(33))) }, /path node is not 32 bytes/],
    ];
    for (const [proof, message] of cases) {
      const result = offline(s, { ...good, batch_proof: proof as ReturnType<typeof wireProof> });
      assert.equal(result.reason, 'MALFORMED');
      assert.match(result.message, message);
    }
  });

  test('a v1 envelope with a batch_proof is a claim mismatch; unchanged, it verifies as before', () => {
    const v1 = seal(p, { plaintext: 'signed alone', recipient: recipientOf(owner), signer: signerOf(sender) });
    const opened = open(p, v1.envelope, keysFor(owner, [sender]));
    assert.equal(opened.signature.status, 'valid');
    const claim = {
      decrypted_data: 'signed alone',
      signed_by: sender.name,
      signer_org_id: sender.orgId,
      signer_key_id: sender.signKeyId,
      signature: opened.signature.status === 'valid' ? b64(opened.signature.signature) : '',
    };
    const check = (c: object) => verifyOffline({ decryptVerifyResult: c as typeof claim, encryptedData: v1.envelope, publicKeys: sender.signing.publicKey });
    assert.equal(check(claim).valid, true);
    assert.equal(check({ ...claim, batch_proof: null }).valid, true, 'null is no proof');
    assert.equal(check({ ...claim, batch_proof: claimOf(batchA[0] as Sealed).batch_proof }).reason, 'CLAIM_MISMATCH');
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inspectEnvelope, verifyOffline } from '@pqseal/sdk';
import {
  BATCH_SIGNATURE_CONTEXT,
  batchLeaf,
  batchRootMessage,
  decodeBase64Url,
  decodeInner,
  encodeBase64Url,
  encodeHeader,
  inspectEnvelope as parseEnvelope,
  rootFromPath,
  signedMessage,
} from '@pqseal/sdk/envelope';
import { aesGcmOpen } from '../../src/crypto/aes-gcm.js';
import { bytesToHex, hexToBytes, utf8 } from '../../src/crypto/bytes.js';
import { sha256, sha512 } from '../../src/crypto/hash.js';
import { loadProviders, type ProviderSet } from '../../src/crypto/providers.js';
import { LruMemo, open } from '../../src/envelope/index.js';
import { deriveAeadKey } from '../../src/envelope/key-schedule.js';
import { sealVectorBatch, v2VectorClaims, VECTORS_V2_FILE, type EnvelopeV2Vector, type EnvelopeV2VectorItem } from '../helpers/envelope-vectors-v2.js';

const { vectors } = JSON.parse(readFileSync(VECTORS_V2_FILE, 'utf8')) as { vectors: EnvelopeV2Vector[] };

const payloadOf = (item: EnvelopeV2VectorItem) => (item.plaintext_utf8 !== undefined ? utf8.encode(item.plaintext_utf8) : hexToBytes(item.plaintext_hex ?? ''));

test('the v2 vectors cover batches of 1, 2, 3 and 5 signed and one unsigned batch', () => {
  const signed = vectors.filter((v) => v.signer).map((v) => v.items.length);
  assert.deepEqual(signed, [1, 2, 3, 5]);
  assert.ok(vectors.some((v) => !v.signer && v.items.length > 1));
});

test('the checked-in v2 vectors are reproduced byte for byte by sealBatch', async () => {
  const p = await loadProviders('deterministic');
  for (const v of vectors) {
    const sealed = sealVectorBatch(p, v);
    assert.deepEqual(
      sealed.map((s) => [s.envelope, s.byteLength, s.envelopeId, s.createdAt]),
      v.expected.envelopes.map((e) => [e.envelope, e.byte_length, e.envelope_id, e.created_at]),
      v.name,
    );
  }
});

test('every intermediate value of the v2 vectors matches the envelopes (what a second implementation checks step by step)', async () => {
  const p = await loadProviders('noble');
  for (const v of vectors) {
    const kem = p.xWing.expand(hexToBytes(v.recipient.kem_seed));
    const signerKey = v.signer ? p.composite.parsePublic(hexToBytes(v.signer.signing_public_key)) : undefined;
    v.expected.envelopes.forEach((e, i) => {
      const what = `${v.name} #${i}`;
      const item = v.items[i] as EnvelopeV2VectorItem;
      const mid = v.intermediate.envelopes[i];
      assert.ok(mid, what);
      const parsed = parseEnvelope(e.envelope);
      assert.equal(parsed.header.version, 2, what);
      assert.equal(bytesToHex(parsed.header.envelopeId), item.envelope_id, what);
      assert.equal(bytesToHex(parsed.kemCipherText), v.intermediate.kem_ciphertext, `${what}: one encapsulation per batch`);
      const sharedSecret = p.xWing.decapsulate(parsed.kemCipherText, kem);
      assert.equal(bytesToHex(sharedSecret), v.intermediate.shared_secret, what);
      const { key, nonce } = deriveAeadKey(sharedSecret, parsed.header.envelopeId, 2, 1);
      assert.deepEqual([bytesToHex(key), bytesToHex(nonce)], [mid.aead_key, mid.aead_nonce], what);
      const inner = aesGcmOpen(hexToBytes(mid.aead_key), hexToBytes(mid.aead_nonce), parsed.aeadCipherText, parsed.aad);
      const { signed, payload } = decodeInner(inner, 2);
      assert.deepEqual(payload, payloadOf(item), what);
      if (!v.signer || !signerKey) {
        assert.equal(signed, undefined, what);
        return;
      }
      assert.ok(signed?.batch, what);
      const header = parsed.aad.subarray(0, parsed.aad.length - parsed.kemCipherText.length);
      const identity = { orgId: v.signer.org_id, keyId: v.signer.signing_key_id, displayName: v.signer.name };
      const message = signedMessage(header, identity, sha512(payload), 2);
      assert.equal(bytesToHex(message), mid.signed_message, what);
      assert.deepEqual(signed.signer, identity, what);
      assert.equal(bytesToHex(signed.batch.leafSalt), item.leaf_salt, what);
      assert.deepEqual([signed.batch.size, signed.batch.index], [v.items.length, i], what);
      assert.deepEqual(signed.batch.path.map(bytesToHex), mid.path, what);
      assert.ok(signed.batch.path.length <= Math.ceil(Math.log2(v.items.length)), what);
      const leaf = batchLeaf(sha256, signed.batch.leafSalt, message);
      assert.equal(bytesToHex(leaf), mid.leaf_hash, what);
      const root = rootFromPath(sha256, leaf, i, v.items.length, signed.batch.path);
      assert.equal(root && bytesToHex(root), v.intermediate.merkle_root, what);
      const mRoot = batchRootMessage(v.items.length, hexToBytes(v.intermediate.merkle_root ?? ''));
      assert.equal(bytesToHex(mRoot), v.intermediate.m_root, what);
      assert.equal(bytesToHex(signed.signature), v.intermediate.signature, `${what}: one signature per batch`);
      assert.equal(p.composite.verify(signerKey, mRoot, signed.signature, BATCH_SIGNATURE_CONTEXT), true, what);
      assert.equal(parsed.aeadCipherText.length, inner.length + 16, what);
    });
  }
});

for (const set of ['fastest', 'noble'] satisfies ProviderSet[]) {
  test(`every v2 vector envelope opens and verifies with the '${set}' providers, with and without memos`, async () => {
    const p = await loadProviders(set);
    for (const memos of [{}, { sharedSecrets: new LruMemo<Uint8Array>(4), verifiedRoots: new LruMemo<true>(4) }]) {
      for (const v of vectors) {
        const kem = p.xWing.expand(hexToBytes(v.recipient.kem_seed));
        const keys = {
          kemKey: (orgId: string, keyId: string) => (orgId === v.recipient.org_id && keyId === v.recipient.kem_key_id ? kem : undefined),
          signerKey: (orgId: string, keyId: string) =>
            v.signer && orgId === v.signer.org_id && keyId === v.signer.signing_key_id
              ? p.composite.parsePublic(hexToBytes(v.signer.signing_public_key))
              : undefined,
          ...memos,
        };
        v.expected.envelopes.forEach((e, i) => {
          const opened = open(p, e.envelope, keys);
          const item = v.items[i] as EnvelopeV2VectorItem;
          assert.deepEqual(opened.plaintext, payloadOf(item), v.name);
          assert.equal(opened.signature.status, v.expected.signature_status, v.name);
          assert.equal(opened.envelopeId, e.envelope_id);
          assert.equal(opened.createdAt, e.created_at);
          assert.deepEqual(opened.header.permissions, item.permissions);
        });
      }
    }
  });
}

test('every v2 vector through @pqseal/sdk: the header facts, the header re-encoded byte for byte, the string re-encoded', () => {
  for (const v of vectors) {
    v.expected.envelopes.forEach((e, i) => {
      const header = inspectEnvelope(e.envelope);
      assert.deepEqual(
        [header.version, header.envelopeId, header.createdAt, header.ownerOrgId, header.kemKeyId, header.permissions],
        [2, e.envelope_id, e.created_at, v.recipient.org_id, v.recipient.kem_key_id, v.items[i]?.permissions],
        v.name,
      );
      const parsed = parseEnvelope(e.envelope);
      assert.deepEqual(encodeHeader(parsed.header, parsed.permissionBytes), header.headerBytes, v.name);
      const bytes = decodeBase64Url(e.envelope);
      assert.equal(bytes.length, e.byte_length);
      assert.equal(encodeBase64Url(bytes), e.envelope);
    });
  }
});

test('every signed v2 vector envelope verifies offline with its batch_proof (wire and SDK spelling); altered claims do not', async () => {
  const claims = v2VectorClaims(await loadProviders('fastest'), vectors);
  assert.equal(claims.length, 1 + 2 + 3 + 5);
  for (const c of claims) {
    const check = (result: object) =>
      verifyOffline({ decryptVerifyResult: result as typeof c.result, encryptedData: c.encryptedData, publicKeys: c.publicKey });
    assert.equal(check(c.result).valid, true, c.name);
    const r = c.result;
    const sdkSpelling = {
      decryptedData: r.decrypted_data,
      dataEncoding: r.data_encoding,
      signedBy: r.signed_by,
      signerOrgId: r.signer_org_id,
      signerKeyId: r.signer_key_id,
      signature: r.signature,
      batchProof: { leafSalt: r.batch_proof.leaf_salt, batchSize: r.batch_proof.batch_size, leafIndex: r.batch_proof.leaf_index, path: r.batch_proof.path },
    };
    assert.equal(check(sdkSpelling).valid, true, c.name);
    assert.equal(check({ ...r, signed_by: `${r.signed_by} (forged)` }).reason, 'SIGNATURE_MISMATCH', c.name);
    const altered =
      r.data_encoding === 'base64' ? Buffer.concat([Buffer.from(r.decrypted_data, 'base64'), Buffer.from('!')]).toString('base64') : `${r.decrypted_data}!`;
    assert.equal(check({ ...r, decrypted_data: altered }).reason, 'SIGNATURE_MISMATCH', c.name);
    const { batch_proof: _proof, ...withoutProof } = r;
    const missing = check(withoutProof);
    assert.equal(missing.reason, 'BATCH_PROOF_MISSING', c.name);
    assert.match(missing.message, /batch_proof/);
  }
});

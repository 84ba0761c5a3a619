import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hexToBytes, utf8 } from '../../src/crypto/bytes.js';
import { loadProviders, type ProviderSet } from '../../src/crypto/providers.js';
import { inspectEnvelope, verifyOffline } from '@pqseal/sdk';
import { decodeBase64Url, encodeBase64Url, encodeHeader, inspectEnvelope as parseEnvelope } from '@pqseal/sdk/envelope';
import { open } from '../../src/envelope/index.js';
import { sealVector, vectorClaims, VECTORS_FILE, type EnvelopeVector } from '../helpers/envelope-vectors.js';

const { vectors } = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as { vectors: EnvelopeVector[] };

test('the checked-in envelope vectors are reproduced byte for byte', async () => {
  const p = await loadProviders('deterministic');
  assert.ok(vectors.length >= 4);
  for (const v of vectors) {
    const sealed = sealVector(p, v);
    assert.equal(sealed.envelope, v.expected.envelope, v.name);
    assert.equal(sealed.byteLength, v.expected.byte_length, v.name);
  }
});

for (const set of ['fastest', 'noble'] satisfies ProviderSet[]) {
  test(`every envelope vector opens and verifies with the '${set}' providers`, async () => {
    const p = await loadProviders(set);
    for (const v of vectors) {
      const kem = p.xWing.expand(hexToBytes(v.recipient.kem_seed));
      const opened = open(p, v.expected.envelope, {
        kemKey: (orgId, keyId) => (orgId === v.recipient.org_id && keyId === v.recipient.kem_key_id ? kem : undefined),
        signerKey: (orgId, keyId) =>
          v.signer && orgId === v.signer.org_id && keyId === v.signer.signing_key_id
            ? p.composite.parsePublic(hexToBytes(v.signer.signing_public_key))
            : undefined,
      });
      const expected = v.plaintext_utf8 !== undefined ? utf8.encode(v.plaintext_utf8) : hexToBytes(v.plaintext_hex ?? '');
      assert.deepEqual(opened.plaintext, expected, v.name);
      assert.equal(opened.signature.status, v.expected.signature_status, v.name);
      assert.equal(opened.envelopeId, v.expected.envelope_id);
      assert.equal(opened.createdAt, v.expected.created_at);
      assert.deepEqual(opened.header.permissions, v.permissions);
    }
  });
}

test('every vector through @pqseal/sdk: the header facts, the header re-encoded byte for byte, offline verification', async () => {
  for (const v of vectors) {
    const header = inspectEnvelope(v.expected.envelope);
    assert.deepEqual(
      [header.envelopeId, header.createdAt, header.ownerOrgId, header.kemKeyId, header.permissions],
      [v.expected.envelope_id, v.expected.created_at, v.recipient.org_id, v.recipient.kem_key_id, v.permissions],
      v.name,
    );
    const parsed = parseEnvelope(v.expected.envelope);
    assert.deepEqual(encodeHeader(parsed.header, parsed.permissionBytes), header.headerBytes, v.name);
  }
  const claims = vectorClaims(await loadProviders('fastest'), vectors);
  assert.equal(claims.length, 3);
  for (const c of claims) {
    assert.equal(verifyOffline({ decryptVerifyResult: c.result, encryptedData: c.encryptedData, publicKeys: c.publicKey }).valid, true, c.name);
    const altered = { ...c.result, signed_by: `${c.result.signed_by} (forged)` };
    assert.equal(verifyOffline({ decryptVerifyResult: altered, encryptedData: c.encryptedData, publicKeys: c.publicKey }).reason, 'SIGNATURE_MISMATCH', c.name);
  }
});

test("the envelope module's two base64url codecs (Node's Buffer, plain JavaScript for browsers) agree on every vector", async () => {
  const browserCodec = new URL('../../../packages/sdk/dist/runtime/base64.browser.js', import.meta.url).href;
  const plain = (await import(browserCodec)) as { encode(bytes: Uint8Array): string; decode(text: string): Uint8Array | undefined };
  for (const v of vectors) {
    const bytes = decodeBase64Url(v.expected.envelope);
    assert.equal(bytes.length, v.expected.byte_length, v.name);
    assert.deepEqual(plain.decode(v.expected.envelope), bytes, v.name);
    assert.equal(plain.encode(bytes), v.expected.envelope, v.name);
    assert.equal(encodeBase64Url(bytes), v.expected.envelope, v.name);
    for (let cut = 1; cut <= 3; cut++) assert.equal(plain.encode(bytes.subarray(cut)), encodeBase64Url(bytes.subarray(cut)), `${v.name}, ${cut} bytes off`);
  }
  assert.equal(plain.decode('AQ*B'), undefined);
});

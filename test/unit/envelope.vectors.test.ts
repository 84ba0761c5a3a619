import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hexToBytes, utf8 } from '../../src/crypto/bytes.js';
import { loadProviders, type ProviderSet } from '../../src/crypto/providers.js';
import { open } from '../../src/envelope/index.js';
import { sealVector, VECTORS_FILE, type EnvelopeVector } from '../helpers/envelope-vectors.js';

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

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  concatBytes,
  decodeBase64Url,
  encodeBase64Url,
  encodeHeader,
  encodeInnerPrefix,
  encodePermissions,
  parseEnvelopeBytes,
  MAX_PERMISSION_BYTES,
  type BatchProof,
} from '@pqseal/sdk/envelope';
import { aesGcmSeal } from '../../src/crypto/aes-gcm.js';
import { deriveAeadKey } from '../../src/envelope/key-schedule.js';
import { findOrgKey } from '../../src/keys/org-keys.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 13 attacker probe over HTTP: a partner granted one envelope of a batch gets nothing of its
 * siblings, and cannot lift the batch signature and proof it was shown onto data of its own.
 */

describe('a partner against a batch it was granted one envelope of', () => {
  let server: TestServer;
  let owner: NewOrganisation;
  let partner: NewOrganisation;
  let sealed: string[];
  before(async () => {
    server = await startTestServer({ rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 });
    owner = await server.createOrg('Batch Owner Co');
    partner = await server.createOrg('Nosy Partner Co');
    const grant = [{ partner_id: partner.org_id, permissions: ['read'] }];
    const res = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(owner), {
      batch_input: [{ data: 'sibling zero' }, { data: 'granted one', permissions: grant }, { data: 'sibling two' }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    sealed = (res.json.body.batch_results as { encrypted_data: string }[]).map((r) => r.encrypted_data);
  });
  after(() => server.stop());

  const open = (org: NewOrganisation, envelope: string) => post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: envelope });

  test('the siblings are refused, alone and in a batch; the granted one verifies', async () => {
    const res = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(partner), { batch_input: sealed.map((e) => ({ encrypted_data: e })) });
    assert.equal(res.status, 200);
    const [zero, one, two] = res.json.body.batch_results as Record<string, unknown>[];
    assert.equal((zero?.error as { code: string }).code, 'ENVELOPE_ACCESS_DENIED');
    assert.equal((two?.error as { code: string }).code, 'ENVELOPE_ACCESS_DENIED');
    assert.equal(one?.decrypted_data, 'granted one');
    assert.equal(one?.is_valid_signature, true);
    assert.ok(!JSON.stringify(res.json).includes('sibling'));
    const alone = await open(partner, sealed[0] as string);
    assert.equal(alone.status, 403);
  });

  test("the granted envelope's signature and proof on the partner's own data never verify, through the verified-roots memo", async () => {
    const shown = await open(partner, sealed[1] as string);
    assert.equal(shown.json.body.is_valid_signature, true);
    const answer = shown.json.body as { signature: string; batch_proof: { leaf_salt: string; batch_size: number; leaf_index: number; path: string[] } };
    const proof: BatchProof = {
      leafSalt: decodeBase64Url(answer.batch_proof.leaf_salt),
      size: answer.batch_proof.batch_size,
      index: answer.batch_proof.leaf_index,
      path: answer.batch_proof.path.map(decodeBase64Url),
    };
    const kem = await findOrgKey(server.services.store.db, `${owner.org_id}.kem.v1`);
    assert.ok(kem);
    const granted = parseEnvelopeBytes(decodeBase64Url(sealed[1] as string), MAX_PERMISSION_BYTES);
    const grantedHeader = granted.aad.subarray(0, granted.aad.length - granted.kemCipherText.length);
    const permissions = [{ partnerId: partner.org_id, actions: ['read'] }];
    const freshHeader = (envelopeId: Uint8Array) => encodeHeader({ ...granted.header, envelopeId, permissions }, encodePermissions(permissions));
    const signer = { orgId: owner.org_id, keyId: `${owner.org_id}.sig.v1`, displayName: 'Batch Owner Co' };
    const forge = (header: Uint8Array, envelopeId: Uint8Array, data: string): string => {
      const { cipherText, sharedSecret } = server.services.providers.xWing.encapsulate(kem.publicKey);
      const { key, nonce } = deriveAeadKey(sharedSecret, envelopeId, 2, 1);
      const inner = concatBytes(encodeInnerPrefix({ signer, signature: decodeBase64Url(answer.signature), batch: proof }, 2), new TextEncoder().encode(data));
      const aad = concatBytes(header, cipherText);
      return encodeBase64Url(aesGcmSeal(key, nonce, [inner], aad, aad));
    };
    const id = new Uint8Array(randomBytes(16));
    for (const envelope of [
      forge(freshHeader(id), id, 'pay the partner 1,000,000'),
      // The granted envelope's very header (its id, time and grant), another payload.
      forge(grantedHeader, granted.header.envelopeId, 'pay the partner 1,000,000'),
    ]) {
      const res = await open(partner, envelope);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.body.decrypted_data, 'pay the partner 1,000,000');
      assert.equal(res.json.body.is_valid_signature, false);
      assert.equal(res.json.body.signature_error, 'SIGNATURE_MISMATCH');
    }
  });
});

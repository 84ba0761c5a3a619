import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { verifyOffline } from '@pqseal/sdk';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import { open, sealBatch } from '../../src/envelope/index.js';
import { MAX_BATCH_SIZE, encodeBase64Url } from '@pqseal/sdk/envelope';
import { keysFor, makeOrg, recipientOf, signerOf, type TestOrg } from '../helpers/org-keys.js';

/**
 * Issue 13 attacker probe (branch probe13): each test shows a problem found by attacking the batch
 * work, and stays as its regression test.
 */

let p: CryptoProviders;
let org: TestOrg;
before(async () => {
  p = await loadProviders('fastest');
  org = makeOrg(p, 'org_probe13', 'Probe Co');
});

/** A decrypt-verify answer for one freshly sealed envelope, as the server gives it. */
function sealAndAnswer(plaintext: string | Uint8Array) {
  const [sealed] = sealBatch(p, { items: [{ plaintext }], recipient: recipientOf(org), signer: signerOf(org) });
  if (!sealed || sealed instanceof Error) throw new Error('sealing failed');
  const opened = open(p, sealed.envelope, keysFor(org, [org]));
  assert.ok(opened.signature.status === 'valid' && opened.signature.batch);
  const { batch } = opened.signature;
  const answer = {
    signed_by: org.name,
    signer_org_id: org.orgId,
    signer_key_id: org.signKeyId,
    signature: encodeBase64Url(opened.signature.signature),
    batch_proof: { leaf_salt: encodeBase64Url(batch.leafSalt), batch_size: batch.size, leaf_index: batch.index, path: batch.path.map(encodeBase64Url) },
  };
  return { envelope: sealed.envelope, payload: opened.plaintext, answer };
}

describe('verifyOffline and the signed content type', () => {
  const verify = (envelope: string, result: object) =>
    verifyOffline({
      decryptVerifyResult: result as Parameters<typeof verifyOffline>[0]['decryptVerifyResult'],
      encryptedData: envelope,
      publicKeys: org.signing.publicKey,
    });

  test('a text envelope presented as base64 data is a CLAIM_MISMATCH, not a valid signature over other data', () => {
    const { envelope, payload, answer } = sealAndAnswer('pay 100 to Alice');
    assert.equal(verify(envelope, { ...answer, decrypted_data: 'pay 100 to Alice' }).valid, true);
    // The signer signed the text "pay 100 to Alice"; a relay answers the string "cGF5IDEwMCB0byBBbGljZQ==" instead.
    const relabelled = verify(envelope, { ...answer, decrypted_data: Buffer.from(payload).toString('base64'), data_encoding: 'base64' });
    assert.equal(relabelled.valid, false);
    assert.equal(relabelled.reason, 'CLAIM_MISMATCH');
  });

  test('a binary envelope presented as text is a CLAIM_MISMATCH', () => {
    const bytes = new TextEncoder().encode('not text, the signer said');
    const { envelope, answer } = sealAndAnswer(bytes);
    assert.equal(verify(envelope, { ...answer, decrypted_data: Buffer.from(bytes).toString('base64'), data_encoding: 'base64' }).valid, true);
    const relabelled = verify(envelope, { ...answer, decrypted_data: 'not text, the signer said' });
    assert.equal(relabelled.valid, false);
    assert.equal(relabelled.reason, 'CLAIM_MISMATCH');
  });
});

describe('configuration bounds of batch_input', () => {
  test('PQSEAL_BATCH_MAX_ITEMS above the envelope format batch size (65,536) is refused at start', () => {
    assert.equal(loadConfig({ PQSEAL_BATCH_MAX_ITEMS: String(MAX_BATCH_SIZE) }, { demo: false }).batchMaxItems, MAX_BATCH_SIZE);
    assert.throws(() => loadConfig({ PQSEAL_BATCH_MAX_ITEMS: String(MAX_BATCH_SIZE + 1) }, { demo: false }), ConfigError);
  });
});

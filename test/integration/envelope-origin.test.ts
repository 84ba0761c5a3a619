import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { unwrapKey } from '../../src/crypto/key-wrap.js';
import { seal } from '../../src/envelope/index.js';
import { findOrgKey, type OrgKeyRecord } from '../../src/keys/org-keys.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { login, managedHeaders, partnerHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * What an opened envelope says about where it came from: the signer is checked against the key the
 * store gives THAT organisation (never a key cached under the same key id for another one), and a
 * plain decrypt says whether the envelope was signed at all.
 */

let server: TestServer;
let orgA: NewOrganisation;
let orgB: NewOrganisation;

before(async () => {
  // One worker thread, so the key a genuine verification caches is in the worker that sees the forgery.
  server = await startTestServer({ workers: 1 });
  orgA = await server.createOrg('Origin Org A');
  orgB = await server.createOrg('Origin Org B');
});
after(() => server.stop());

async function key(orgId: string, kind: 'sig' | 'kem'): Promise<OrgKeyRecord> {
  const record = await findOrgKey(server.services.store.db, `${orgId}.${kind}.v1`);
  assert.ok(record, `${orgId} has a ${kind} key`);
  return record;
}

describe('signer keys are looked up by (organisation, key id)', () => {
  test("an envelope claiming organisation B, signed with A's key under A's key id, does not verify even after A's key was used", async () => {
    const h = managedHeaders(orgA);
    // A genuine A envelope, verified once: the worker now holds A's verifying key.
    const genuine = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'genuine from A' });
    const checked = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: genuine.json.body.encrypted_data });
    assert.equal(checked.json.body.is_valid_signature, true);
    assert.equal(checked.json.body.signer_org_id, orgA.org_id);

    // Whoever holds A's signing secret crafts an envelope that claims B as signer but names A's key.
    const signing = await key(orgA.org_id, 'sig');
    const kem = await key(orgA.org_id, 'kem');
    const { providers, masterKey } = server.services;
    const forged = seal(providers, {
      plaintext: 'forged, claims B',
      recipient: { orgId: orgA.org_id, kemKeyId: kem.id, publicKey: kem.publicKey },
      signer: {
        orgId: orgB.org_id,
        keyId: signing.id,
        displayName: 'Origin Org B',
        key: providers.composite.expandSecret(unwrapKey(masterKey, signing.id, signing.wrappedSecret)),
      },
    });
    registerSecret('forged, claims B', 'genuine from A');

    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: forged.envelope });
    assert.equal(opened.status, 200, JSON.stringify(opened.json));
    assert.equal(opened.json.body.signer_org_id, orgB.org_id, 'the envelope claims B');
    assert.equal(opened.json.body.is_valid_signature, false, 'B owns no key with that id: the claim must not verify');
    assert.equal(opened.json.body.repudiator, 'Origin Org B');
  });
});

describe('decrypt says whether the envelope was signed', () => {
  const data = 'decrypt tells signed from unsigned';
  before(() => registerSecret(data));

  for (const path of ['managed', 'direct'] as const) {
    test(`${path}: signed is true for sign-encrypt, false for encrypt and for an envelope anyone made to the public key`, async () => {
      const base = path === 'managed' ? `${server.url}/v1` : server.url;
      const h = path === 'managed' ? managedHeaders(orgA) : { ...partnerHeaders(orgA), authorization: `Bearer ${(await login(server.url, orgA)).IdToken}` };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON response bodies: the tests assert their shape field by field
      const unwrap = (r: { json: any }) => (path === 'managed' ? r.json.body : r.json);

      const signedEnvelope = unwrap(await post(`${base}/sign-encrypt`, h, { data })).encrypted_data;
      const plainEnvelope = unwrap(await post(`${base}/encrypt`, h, { data })).encrypted_data;
      // Anyone can encrypt to the organisation's published KEM key without any credentials.
      const kem = await key(orgA.org_id, 'kem');
      const outsider = seal(server.services.providers, {
        plaintext: data,
        recipient: { orgId: orgA.org_id, kemKeyId: kem.id, publicKey: kem.publicKey },
      }).envelope;

      for (const [envelope, signed] of [
        [signedEnvelope, true],
        [plainEnvelope, false],
        [outsider, false],
      ] as const) {
        const r = await post(`${base}/decrypt`, h, { encrypted_data: envelope });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(unwrap(r).decrypted_data, data);
        assert.equal(unwrap(r).signed, signed);
      }
    });
  }
});

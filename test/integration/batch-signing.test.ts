import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { unwrapKey } from '../../src/crypto/key-wrap.js';
import { seal } from '../../src/envelope/index.js';
import { findOrgKey } from '../../src/keys/org-keys.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 13's batch signatures on the real server: single sign-encrypt requests that arrive together
 * share one signature and one encapsulation, and every envelope still opens and verifies on its own.
 */

interface Sealed {
  readonly data: string;
  readonly envelope: string;
}

async function sealConcurrently(server: TestServer, org: NewOrganisation, count: number, label: string): Promise<Sealed[]> {
  const h = managedHeaders(org);
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const data = `${label} ${i}`;
      const r = await post(`${server.url}/v1/sign-encrypt`, h, { data });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      return { data, envelope: r.json.body.encrypted_data as string };
    }),
  );
}

async function openAll(server: TestServer, org: NewOrganisation, sealed: readonly Sealed[]): Promise<number[]> {
  const h = managedHeaders(org);
  const sizes: number[] = [];
  for (let i = 0; i < sealed.length; i += 64) {
    await Promise.all(
      sealed.slice(i, i + 64).map(async ({ data, envelope }) => {
        const r = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: envelope });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.body.decrypted_data, data);
        assert.equal(r.json.body.is_valid_signature, true);
        sizes.push(r.json.body.batch_proof.batch_size as number);
      }),
    );
  }
  return sizes;
}

describe('batch signatures of single requests', () => {
  let server: TestServer;
  let org: NewOrganisation;
  before(async () => {
    server = await startTestServer({ workers: 2, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 });
    org = await server.createOrg('Batch Co');
  });
  after(() => server.stop());

  test('a request alone is a batch of one, sent at once', async () => {
    const [sealed] = await sealConcurrently(server, org, 1, 'alone');
    const sizes = await openAll(server, org, [sealed as Sealed]);
    assert.deepEqual(sizes, [1]);
  });

  test('1,000 seals, 250 at a time, all verify; they share signatures in batches of at most PQSEAL_SEAL_BATCH_MAX', async () => {
    const before = server.services.pool.tasksRun.seal;
    // 250 at once stays under the listen backlog of a loaded machine (1,000 sockets at once were reset there).
    const sealed: Sealed[] = [];
    for (let wave = 0; wave < 4; wave++) sealed.push(...(await sealConcurrently(server, org, 250, `concurrent ${wave}`)));
    const tasks = server.services.pool.tasksRun.seal - before;
    assert.ok(tasks < 1000, `1,000 seals took ${tasks} seal tasks: nothing was batched`);
    const sizes = await openAll(server, org, sealed);
    assert.ok(Math.max(...sizes) > 1, 'some envelopes share a batch');
    assert.ok(Math.max(...sizes) <= server.services.config.sealBatchMax);
    assert.equal(new Set(sealed.map((s) => s.envelope)).size, 1000);
    assert.equal(new Set(sealed.map((s) => s.data)).size, 1000);
  });

  test('concurrent opens share crypto tasks while every worker is busy, and each still answers its own envelope', async () => {
    const sealed = await sealConcurrently(server, org, 200, 'opened together');
    const before = server.services.pool.tasksRun.open;
    const h = managedHeaders(org);
    const answers = await Promise.all(sealed.slice(0, 100).map(({ envelope }) => post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: envelope })));
    answers.forEach((r, i) => {
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.body.decrypted_data, `opened together ${i}`);
      assert.equal(r.json.body.is_valid_signature, true);
    });
    const tasks = server.services.pool.tasksRun.open - before;
    assert.ok(tasks < 100, `100 concurrent opens took ${tasks} open tasks`);
    // A tampered envelope among good ones fails alone.
    const tampered = Buffer.from(sealed[150]?.envelope as string, 'base64url');
    tampered.writeUInt8((tampered.at(-1) as number) ^ 1, tampered.length - 1);
    const mixed = await Promise.all(
      [sealed[151]?.envelope, tampered.toString('base64url'), sealed[152]?.envelope].map((e) => post(`${server.url}/v1/decrypt`, h, { encrypted_data: e })),
    );
    assert.deepEqual(
      mixed.map((r) => r.status),
      [200, 400, 200],
    );
    assert.equal(mixed[1]?.json.body.error.code, 'ENVELOPE_AUTH_FAILED');
  });
});

describe('v1 envelopes still open', () => {
  let server: TestServer;
  let org: NewOrganisation;
  before(async () => {
    server = await startTestServer({ workers: 1 });
    org = await server.createOrg('Old Envelopes Ltd');
  });
  after(() => server.stop());

  test('a v1 envelope sealed before envelope v2 decrypts and verifies, between v2 envelopes', async () => {
    const signing = await findOrgKey(server.services.store.db, `${org.org_id}.sig.v1`);
    const kem = await findOrgKey(server.services.store.db, `${org.org_id}.kem.v1`);
    assert.ok(signing && kem);
    const { providers, masterKey } = server.services;
    const v1 = seal(providers, {
      plaintext: 'sealed by an older pqseal',
      recipient: { orgId: org.org_id, kemKeyId: kem.id, publicKey: kem.publicKey },
      signer: {
        orgId: org.org_id,
        keyId: signing.id,
        displayName: 'Old Envelopes Ltd',
        key: providers.composite.expandSecret(unwrapKey(masterKey, signing.id, signing.wrappedSecret)),
      },
    });
    const [before] = await sealConcurrently(server, org, 1, 'v2 before');
    const h = managedHeaders(org);
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: v1.envelope });
    assert.equal(opened.status, 200, JSON.stringify(opened.json));
    assert.equal(opened.json.body.decrypted_data, 'sealed by an older pqseal');
    assert.equal(opened.json.body.is_valid_signature, true);
    assert.equal(opened.json.body.batch_proof, undefined, 'a v1 envelope has no batch proof');
    const plain = await post(`${server.url}/v1/decrypt`, h, { encrypted_data: v1.envelope });
    assert.equal(plain.json.body.decrypted_data, 'sealed by an older pqseal');
    assert.deepEqual(await openAll(server, org, [before as Sealed]), [1]);
  });
});

describe('PQSEAL_SEAL_BATCH_MAX=1', () => {
  let server: TestServer;
  let org: NewOrganisation;
  before(async () => {
    server = await startTestServer({ workers: 2, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 }, { PQSEAL_SEAL_BATCH_MAX: '1' });
    org = await server.createOrg('Alone Co');
  });
  after(() => server.stop());

  test('every envelope is sealed alone: one signature and one encapsulation each', async () => {
    const before = server.services.pool.tasksRun.seal;
    const sealed = await sealConcurrently(server, org, 100, 'alone');
    assert.equal(server.services.pool.tasksRun.seal - before, 100);
    assert.deepEqual(new Set(await openAll(server, org, sealed)), new Set([1]));
  });
});

describe('a decrypt-verify batch on a worker that holds no signer key yet', () => {
  let server: TestServer;
  let org: NewOrganisation;
  before(async () => {
    server = await startTestServer({ workers: 1, maxQueue: 8, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 });
    org = await server.createOrg('Fresh Worker Ltd');
  });
  after(() => server.stop());

  test('every item needs its signature checked with a key from the store, and none overflows the crypto queue', async () => {
    const h = managedHeaders(org);
    const sealed = await post(`${server.url}/v1/sign-encrypt`, h, { batch_input: Array.from({ length: 200 }, (_, i) => ({ data: `fresh ${i}` })) });
    assert.equal(sealed.status, 200, JSON.stringify(sealed.json).slice(0, 300));
    const envelopes = (sealed.json.body.batch_results as { encrypted_data: string }[]).map((r) => ({ encrypted_data: r.encrypted_data }));
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { batch_input: envelopes });
    assert.equal(opened.status, 200, JSON.stringify(opened.json).slice(0, 300));
    const results = opened.json.body.batch_results as { decrypted_data: string; is_valid_signature: boolean }[];
    results.forEach((r, i) => {
      assert.equal(r.decrypted_data, `fresh ${i}`);
      assert.equal(r.is_valid_signature, true);
    });
  });
});

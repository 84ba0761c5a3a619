import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
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

  test('1,000 concurrent seals all verify; they share signatures in batches of at most PQSEAL_SEAL_BATCH_MAX', async () => {
    const before = server.services.pool.tasksRun.seal;
    const sealed = await sealConcurrently(server, org, 1000, 'concurrent');
    const tasks = server.services.pool.tasksRun.seal - before;
    assert.ok(tasks < 1000, `1,000 seals took ${tasks} seal tasks: nothing was batched`);
    const sizes = await openAll(server, org, sealed);
    assert.ok(Math.max(...sizes) > 1, 'some envelopes share a batch');
    assert.ok(Math.max(...sizes) <= server.services.config.sealBatchMax);
    assert.equal(new Set(sealed.map((s) => s.envelope)).size, 1000);
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

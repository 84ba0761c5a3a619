import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 11's straight hot path, on the real server: a decrypt-verify decrypts once even when the
 * worker lacks the signer's key, and benchmark code is there only with PQSEAL_BENCH_ROUTES on.
 */

describe('decrypt-verify decrypts once', () => {
  let server: TestServer;
  let org: NewOrganisation;
  before(async () => {
    server = await startTestServer({ workers: 1 });
    org = await server.createOrg('Once Ltd');
  });
  after(() => server.stop());

  test('a worker without the signer key checks the signature in a verify task, with no second open', async () => {
    const h = managedHeaders(org);
    registerSecret('decrypted exactly once');
    const sealed = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'decrypted exactly once' });
    assert.equal(sealed.status, 200);
    const { pool } = server.services;
    const before = { ...pool.tasksRun };

    // The pool's one worker has never seen this organisation's verifying key.
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.status, 200);
    assert.equal(opened.json.body.decrypted_data, 'decrypted exactly once');
    assert.equal(opened.json.body.is_valid_signature, true);
    assert.equal(opened.json.body.signer_org_id, org.org_id);
    assert.deepEqual({ open: pool.tasksRun.open - before.open, verify: pool.tasksRun.verify - before.verify }, { open: 1, verify: 1 });

    // Now it holds the key: one open, nothing else.
    const again = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(again.json.body.is_valid_signature, true);
    assert.deepEqual({ open: pool.tasksRun.open - before.open, verify: pool.tasksRun.verify - before.verify }, { open: 2, verify: 1 });
  });
});

describe('benchmark routes', () => {
  test('off by default: the bench routes do not exist', async () => {
    const server = await startTestServer();
    try {
      for (const [method, path] of [
        ['POST', '/bench/bare'],
        ['POST', '/bench/crypto-seal'],
        ['GET', '/bench/stats'],
        ['POST', '/bench/stats/reset'],
      ] as const) {
        const res = await fetch(`${server.url}${path}`, { method, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : null });
        assert.equal(res.status, 404, `${method} ${path}`);
        await res.arrayBuffer();
      }
    } finally {
      await server.stop();
    }
  });

  test('on with PQSEAL_BENCH_ROUTES=true: the ceilings run, and the stats name each thread by role', async () => {
    const server = await startTestServer({ benchRoutes: true, workers: 2 });
    try {
      const org = await server.createOrg('Bench Ltd');
      for (const path of ['/bench/bare', '/bench/crypto-seal', '/bench/crypto-open']) {
        const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":"x"}' });
        assert.equal(res.status, 200, path);
        assert.deepEqual(await res.json(), { ok: true });
      }
      // One audited request, so the audit writer thread has started.
      await post(`${server.url}/v1/encrypt`, managedHeaders(org), { data: 'bench' });
      const stats = (await (await fetch(`${server.url}/bench/stats`)).json()) as {
        ceilingInFlight: number;
        threads: { main: number; crypto: number[]; audit?: number };
        audit: { batches: number };
      };
      assert.equal(stats.ceilingInFlight, 0);
      assert.equal(stats.threads.main, process.pid);
      assert.ok(stats.audit.batches >= 1);
      if (process.platform === 'linux') {
        assert.equal(stats.threads.crypto.length, 2);
        assert.equal(typeof stats.threads.audit, 'number');
      }
    } finally {
      await server.stop();
    }
  });
});

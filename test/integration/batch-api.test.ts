import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthError, Client, DecryptError, login as sdkLogin, managed, ValidationError } from '@pqseal/sdk';
import type { AuditRecord } from '../../src/audit/record.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import {
  login,
  managedHeaders,
  partnerHeaders,
  post,
  registerSecret,
  startTestServer,
  tempDir,
  type JsonResponse,
  type TestServer,
} from '../helpers/server.js';

/**
 * Issue 13, item 3: `batch_input` on the four operations, Managed and Direct. One result per item,
 * in order; an item that fails carries its error and the others still run; a batch refused as a
 * whole is a 4xx; one audit record per item; the rate limit counts items.
 */

let server: TestServer;
let owner: NewOrganisation;
let partner: NewOrganisation;
let stranger: NewOrganisation;
let directHeaders: Record<string, string>;

const SECRETS = ['batch item one: ledger 4411', 'batch item two: ledger 4412', 'batch item three: ledger 4413'];

type Path = 'managed' | 'direct';
const PATHS: readonly Path[] = ['managed', 'direct'];

before(async () => {
  server = await startTestServer({}, { PQSEAL_BATCH_MAX_ITEMS: '20', PQSEAL_BATCH_MAX_BYTES: '64000' });
  owner = await server.createOrg('Batch Owner Ltd');
  partner = await server.createOrg('Batch Partner Ltd');
  stranger = await server.createOrg('Batch Stranger Ltd');
  registerSecret(...SECRETS);
  const { IdToken } = await login(server.url, owner);
  directHeaders = { authorization: `Bearer ${IdToken}`, ...partnerHeaders(owner) };
});
after(() => server.stop());

/** Calls `op` on `path` as the owner; answers the batch results (the body on Direct, body.body on Managed). */
async function call(path: Path, op: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse & { results: unknown[] }> {
  const res =
    path === 'managed'
      ? await post(`${server.url}/v1/${op}`, { ...managedHeaders(owner), ...headers }, body)
      : await post(`${server.url}/${op}`, { ...directHeaders, ...headers }, body);
  const inner = path === 'managed' ? res.json?.body : res.json;
  if (path === 'managed') assert.equal(res.json?.statusCode, res.status, 'Managed answers carry their status');
  return { ...res, results: (inner?.batch_results ?? []) as unknown[] };
}

const ok = (r: unknown): Record<string, unknown> => {
  assert.ok(r && typeof r === 'object' && !('error' in r), `a result, not ${JSON.stringify(r)}`);
  return r as Record<string, unknown>;
};
const errorOf = (r: unknown): { code: string; message: string } => {
  assert.ok(r && typeof r === 'object' && 'error' in r, `an error, not ${JSON.stringify(r)}`);
  const error = (r as { error: { code: string; message: string } }).error;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message']);
  return error;
};

async function sealOne(org: NewOrganisation, op: 'encrypt' | 'sign-encrypt', data: string): Promise<string> {
  const res = await post(`${server.url}/v1/${op}`, managedHeaders(org), { data });
  assert.equal(res.status, 200);
  return res.json.body.encrypted_data as string;
}

async function auditOf(org: NewOrganisation, requestId: string): Promise<AuditRecord[]> {
  const res = await fetch(`${server.url}/v1/audit?limit=500`, { headers: managedHeaders(org) });
  const json = (await res.json()) as { body: { records: AuditRecord[] } };
  return json.body.records.filter((r) => r.request_id === requestId);
}

describe('the four operations take batch_input, Managed and Direct', () => {
  for (const path of PATHS) {
    test(`${path}: sign-encrypt, encrypt, decrypt and decrypt-verify answer one result per item, in order`, async () => {
      const signed = await call(path, 'sign-encrypt', { batch_input: SECRETS.map((data) => ({ data })) });
      assert.equal(signed.status, 200, JSON.stringify(signed.json));
      assert.equal(signed.results.length, 3);
      const envelopes = signed.results.map((r) => ok(r).encrypted_data as string);
      const ids = signed.results.map((r) => ok(r).envelope_id as string);
      for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(new Set(ids).size, 3, 'one envelope per item');

      const verified = await call(path, 'decrypt-verify', { batch_input: envelopes.map((encrypted_data) => ({ encrypted_data })) });
      assert.equal(verified.status, 200);
      assert.deepEqual(
        verified.results.map((r) => ok(r).decrypted_data),
        SECRETS,
        'in the order of the items',
      );
      assert.deepEqual(
        verified.results.map((r) => ok(r).envelope_id),
        ids,
      );
      for (const r of verified.results) {
        assert.equal(ok(r).is_valid_signature, true);
        assert.equal(ok(r).signed_by, 'Batch Owner Ltd');
      }

      // Reversed order in, reversed order out.
      const opened = await call(path, 'decrypt', { batch_input: [...envelopes].reverse().map((encrypted_data) => ({ encrypted_data })) });
      assert.equal(opened.status, 200);
      assert.deepEqual(
        opened.results.map((r) => ok(r).decrypted_data),
        [...SECRETS].reverse(),
      );
      assert.ok(opened.results.every((r) => ok(r).signed === true));

      const plain = await call(path, 'encrypt', { batch_input: [{ data: SECRETS[0] }, { data: SECRETS[1] }] });
      assert.equal(plain.status, 200);
      const back = await call(path, 'decrypt', { batch_input: plain.results.map((r) => ({ encrypted_data: ok(r).encrypted_data })) });
      assert.deepEqual(
        back.results.map((r) => [ok(r).decrypted_data, ok(r).signed]),
        [
          [SECRETS[0], false],
          [SECRETS[1], false],
        ],
      );
    });

    test(`${path}: a batch of one answers batch_results with one result`, async () => {
      const res = await call(path, 'sign-encrypt', { batch_input: [{ data: SECRETS[0] }] });
      assert.equal(res.status, 200);
      const keys = Object.keys(path === 'managed' ? res.json.body : res.json);
      assert.deepEqual(keys, ['batch_results']);
      assert.equal(res.results.length, 1);
      assert.deepEqual(Object.keys(ok(res.results[0])).sort(), ['encrypted_data', 'envelope_id']);
    });
  }

  test('Direct: requested_actions applies to the whole batch', async () => {
    const good = await call('direct', 'sign-encrypt', { batch_input: [{ data: 'x' }, { data: 'y' }], requested_actions: ['s', 'e'] });
    assert.equal(good.status, 200);
    const bad = await call('direct', 'sign-encrypt', { batch_input: [{ data: 'x' }], requested_actions: ['e'] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'VALIDATION_ERROR');
  });
});

describe('one bad item never fails the batch', () => {
  test('decrypt: a malformed envelope and another organisation envelope without a grant fail alone', async () => {
    const mine = await sealOne(owner, 'sign-encrypt', SECRETS[0] as string);
    const theirs = await sealOne(stranger, 'sign-encrypt', 'stranger data: ledger 7001');
    registerSecret('stranger data: ledger 7001');
    for (const path of PATHS) {
      const res = await call(path, 'decrypt', { batch_input: [{ encrypted_data: 'not-an-envelope' }, { encrypted_data: mine }, { encrypted_data: theirs }] });
      assert.equal(res.status, 200);
      assert.equal(errorOf(res.results[0]).code, 'ENVELOPE_MALFORMED');
      assert.equal(ok(res.results[1]).decrypted_data, SECRETS[0]);
      assert.equal(errorOf(res.results[2]).code, 'ENVELOPE_ACCESS_DENIED');
      assert.ok(!JSON.stringify(res.json).includes('ledger 7001'), 'no plaintext of the refused item');
    }
  });

  test('a tampered envelope fails authentication as an item', async () => {
    const mine = await sealOne(owner, 'sign-encrypt', SECRETS[1] as string);
    const tampered = `${mine.slice(0, -4)}${mine.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const res = await call('managed', 'decrypt-verify', { batch_input: [{ encrypted_data: tampered }, { encrypted_data: mine }] });
    assert.equal(res.status, 200);
    assert.equal(errorOf(res.results[0]).code, 'ENVELOPE_AUTH_FAILED');
    assert.equal(ok(res.results[1]).decrypted_data, SECRETS[1]);
  });

  test('decrypt-verify of an unsigned envelope is an ENVELOPE_NOT_SIGNED item', async () => {
    const unsigned = await sealOne(owner, 'encrypt', SECRETS[2] as string);
    const signed = await sealOne(owner, 'sign-encrypt', SECRETS[2] as string);
    const res = await call('direct', 'decrypt-verify', { batch_input: [{ encrypted_data: signed }, { encrypted_data: unsigned }] });
    assert.equal(res.status, 200);
    assert.equal(ok(res.results[0]).is_valid_signature, true);
    assert.equal(errorOf(res.results[1]).code, 'ENVELOPE_NOT_SIGNED');
  });

  test('sign-encrypt: invalid permissions and items that break the item schema fail alone', async () => {
    const res = await call('managed', 'sign-encrypt', {
      batch_input: [
        { data: 'a', permissions: [{ partner_id: 'org_nobody_here', permissions: ['read'] }] },
        { data: 'b', permissions: [{ partner_id: partner.org_id, permissions: ['read'] }] },
        { data: 'c', permissions: [{ partner_id: partner.org_id, permissions: ['delete'] }] },
        { data: 'd', colour: 'blue' },
        { encrypted_data: 'e' },
        { data: 'f', permissions: [{ partner_id: partner.org_id, permissions: ['read'], expires_at: '2001-01-01T00:00:00Z' }] },
      ],
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.results.length, 6);
    const first = errorOf(res.results[0]);
    assert.equal(first.code, 'VALIDATION_ERROR');
    assert.match(first.message, /unknown partner/);
    const shared = ok(res.results[1]).encrypted_data as string;
    assert.match(errorOf(res.results[2]).message, /^batch_input\[2\]\.permissions\.0\.permissions\.0 must be one of/);
    assert.equal(errorOf(res.results[3]).message, 'batch_input[3]: unknown field "colour"');
    assert.equal(errorOf(res.results[4]).message, 'batch_input[4]: missing required field "data"');
    assert.match(errorOf(res.results[5]).message, /expires_at is in the past/);

    // The item that ran was shared as asked: the partner opens it (in a batch of its own).
    const opened = await post(`${server.url}/v1/decrypt`, managedHeaders(partner), { batch_input: [{ encrypted_data: shared }] });
    assert.equal(opened.status, 200);
    assert.equal(opened.json.body.batch_results[0].decrypted_data, 'b');
  });
});

describe('a batch refused as a whole', () => {
  test('both shapes at once, or neither, is a 400', async () => {
    for (const path of PATHS) {
      const both = await call(path, 'sign-encrypt', { data: 'x', batch_input: [{ data: 'y' }] });
      assert.equal(both.status, 400);
      const error = path === 'managed' ? both.json.body.error : both.json;
      assert.equal(error.code, 'VALIDATION_ERROR');
      assert.match(error.message, /either batch_input or the single-item fields, not both/);
      const permissionsBeside = await call(path, 'sign-encrypt', { permissions: [], batch_input: [{ data: 'y' }] });
      assert.equal(permissionsBeside.status, 400);
      const openBoth = await call(path, 'decrypt', { encrypted_data: 'x', batch_input: [{ encrypted_data: 'y' }] });
      assert.equal(openBoth.status, 400);
      const neither = await call(path, 'decrypt', {});
      assert.equal(neither.status, 400);
      assert.match((path === 'managed' ? neither.json.body.error : neither.json).message, /missing required field "encrypted_data"/);
    }
  });

  test('not an array, empty, an item that is not an object: 400 VALIDATION_ERROR', async () => {
    for (const batch_input of [{ data: 'x' }, 'x', [], [{ data: 'x' }, 'y'], [null]]) {
      const res = await call('managed', 'sign-encrypt', { batch_input });
      assert.equal(res.status, 400, JSON.stringify(batch_input));
      assert.equal(res.json.body.error.code, 'VALIDATION_ERROR');
    }
  });

  test('too many items or bytes: 413 BATCH_TOO_LARGE, nothing sealed', async () => {
    const many = await call('managed', 'encrypt', { batch_input: Array.from({ length: 21 }, () => ({ data: 'x' })) });
    assert.equal(many.status, 413);
    assert.equal(many.json.body.error.code, 'BATCH_TOO_LARGE');
    assert.match(many.json.body.error.message, /21 items; at most 20/);
    const exactly = await call('managed', 'encrypt', { batch_input: Array.from({ length: 20 }, () => ({ data: 'x' })) });
    assert.equal(exactly.status, 200);
    assert.equal(exactly.results.length, 20);

    // 64,000 bytes at most, counted in UTF-8: two items of 16,000 × "é" (2 bytes each) and one byte more.
    const heavy = await call('direct', 'encrypt', { batch_input: [{ data: 'é'.repeat(16_000) }, { data: 'é'.repeat(16_000) }, { data: 'x' }] });
    assert.equal(heavy.status, 413);
    assert.equal(heavy.json.code, 'BATCH_TOO_LARGE');
    assert.match(heavy.json.message, /64001 bytes/);
    const fits = await call('direct', 'encrypt', { batch_input: [{ data: 'é'.repeat(16_000) }, { data: 'é'.repeat(16_000) }] });
    assert.equal(fits.status, 200);
  });
});

describe('audit: one record per item', () => {
  test('a 3-item batch with one bad item leaves 3 records with the right outcomes, the refused batch one record', async () => {
    const mine = await sealOne(owner, 'sign-encrypt', SECRETS[0] as string);
    const unsigned = await sealOne(owner, 'encrypt', SECRETS[1] as string);
    const requestId = 'batch-audit-three-items';
    const res = await call(
      'managed',
      'decrypt-verify',
      { batch_input: [{ encrypted_data: mine }, { encrypted_data: unsigned }, { encrypted_data: mine }] },
      { 'x-request-id': requestId },
    );
    assert.equal(res.status, 200);
    const records = (await auditOf(owner, requestId)).sort((a, b) => a.seq - b.seq);
    assert.equal(records.length, 3);
    assert.deepEqual(
      records.map((r) => [r.operation, r.outcome, r.error_code, r.envelope_id, r.via]),
      [
        ['decrypt-verify', 'success', null, ok(res.results[0]).envelope_id, 'managed'],
        ['decrypt-verify', 'failure', 'ENVELOPE_NOT_SIGNED', records[1]?.envelope_id, 'managed'],
        ['decrypt-verify', 'success', null, ok(res.results[2]).envelope_id, 'managed'],
      ],
    );
    assert.match(records[1]?.envelope_id ?? '', /^[0-9a-f]{32}$/, 'the failed item names its envelope');
    for (const r of records) {
      assert.equal(r.org_id, owner.org_id);
      assert.equal(r.envelope_owner_id, owner.org_id);
      assert.match(r.user_id ?? '', /^usr_/);
    }

    const sealId = 'batch-audit-seal';
    const sealed = await call(
      'direct',
      'sign-encrypt',
      {
        batch_input: [
          { data: 'p', permissions: [{ partner_id: partner.org_id, permissions: ['read'] }] },
          { data: 'q', permissions: [{ partner_id: 'org_nobody', permissions: ['read'] }] },
        ],
      },
      { 'x-request-id': sealId },
    );
    assert.equal(sealed.status, 200);
    const sealRecords = (await auditOf(owner, sealId)).sort((a, b) => a.seq - b.seq);
    assert.deepEqual(
      sealRecords.map((r) => [r.operation, r.outcome, r.error_code, r.partner_ids, r.via]),
      [
        ['sign-encrypt', 'success', null, [partner.org_id], 'direct'],
        ['sign-encrypt', 'failure', 'VALIDATION_ERROR', ['org_nobody'], 'direct'],
      ],
    );
    assert.equal(sealRecords[0]?.envelope_id, ok(sealed.results[0]).envelope_id);

    const refusedId = 'batch-audit-refused';
    const refused = await call('managed', 'encrypt', { data: 'x', batch_input: [{ data: 'y' }, { data: 'z' }] }, { 'x-request-id': refusedId });
    assert.equal(refused.status, 400);
    const refusedRecords = await auditOf(owner, refusedId);
    assert.deepEqual(
      refusedRecords.map((r) => [r.outcome, r.error_code, r.http_status]),
      [['failure', 'VALIDATION_ERROR', 400]],
    );
  });

  test("a partner's batch open leaves a record per item in the owner's chain too", async () => {
    const shared = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(owner), {
      data: SECRETS[2],
      permissions: [{ partner_id: partner.org_id, permissions: ['read'] }],
    });
    const requestId = 'batch-audit-partner-open';
    const res = await post(
      `${server.url}/v1/decrypt`,
      { ...managedHeaders(partner), 'x-request-id': requestId },
      { batch_input: [{ encrypted_data: shared.json.body.encrypted_data }, { encrypted_data: shared.json.body.encrypted_data }] },
    );
    assert.equal(res.status, 200);
    assert.equal((await auditOf(partner, requestId)).length, 2);
    const ownerCopies = await auditOf(owner, requestId);
    assert.equal(ownerCopies.length, 2);
    for (const r of ownerCopies) assert.equal(r.org_id, partner.org_id);
  });
});

describe('the rate limit counts items', () => {
  test('a batch costs one token per item; a batch over the burst is taken from a full bucket; a refused batch is one record', async () => {
    const limited = await startTestServer({}, { PQSEAL_RATE_LIMIT_RPS: '1', PQSEAL_RATE_LIMIT_BURST: '5' });
    try {
      const a = await limited.createOrg('Limited One Ltd');
      const b = await limited.createOrg('Limited Two Ltd');
      const url = `${limited.url}/v1/encrypt`;
      const five = await post(url, managedHeaders(a), { batch_input: Array.from({ length: 5 }, () => ({ data: 'x' })) });
      assert.equal(five.status, 200);
      // Five items took the whole burst of five: the next single request waits (one token per second).
      const next = await post(url, { ...managedHeaders(a), 'x-request-id': 'limited-after-batch' }, { data: 'x' });
      assert.equal(next.status, 429);
      assert.equal(next.json.body.error.code, 'RATE_LIMITED');
      assert.ok(Number(next.headers.get('retry-after')) >= 1);

      // A batch larger than the burst is served from a full bucket, which then owes the rest.
      const stats = limited.services.auditWriter.stats;
      const beforeBatch = stats.records;
      const twelve = await post(url, managedHeaders(b), { batch_input: Array.from({ length: 12 }, () => ({ data: 'x' })) });
      assert.equal(twelve.status, 200);
      assert.equal(stats.records - beforeBatch, 12, 'one record per item');
      const beforeRefusal = stats.records;
      const owed = await post(url, managedHeaders(b), { batch_input: [{ data: 'x' }, { data: 'y' }] });
      assert.equal(owed.status, 429);
      assert.ok(Number(owed.headers.get('retry-after')) >= 5, 'a debt of 7 tokens and 1 more at 1/s: several seconds');
      assert.equal(stats.records - beforeRefusal, 1, 'a batch refused as a whole leaves one record');
    } finally {
      await limited.stop();
    }
  });
});

describe('SDK batch methods', () => {
  const clientFor = (org: NewOrganisation, api: 'managed' | 'direct'): Client => {
    const user = { username: org.username, password: org.password };
    return new Client({
      baseUrl: server.url,
      credentials: { apiKey: org.api_key, accessKey: org.access_key, secretKey: org.secret_key },
      auth: api === 'managed' ? managed(user) : sdkLogin(user),
    });
  };

  for (const api of ['managed', 'direct'] as const) {
    test(`${api}: the four batch methods give one typed result per item, in order`, async () => {
      const client = clientFor(owner, api);
      const theirs = await sealOne(stranger, 'sign-encrypt', 'stranger data: ledger 7002');
      registerSecret('stranger data: ledger 7002');
      const signed = await client.signEncryptBatch({
        items: [{ data: SECRETS[0] as string }, { data: SECRETS[1] as string, permissions: [{ partnerId: 'org_nobody' }] }, { data: SECRETS[2] as string }],
      });
      assert.match(signed.requestId ?? '', /.+/);
      assert.deepEqual(
        signed.results.map((r) => r.ok),
        [true, false, true],
      );
      const refused = signed.results[1];
      assert.ok(refused && !refused.ok);
      assert.ok(refused.error instanceof ValidationError);
      assert.equal(refused.error.code, 'VALIDATION_ERROR');
      const envelopes = signed.results.flatMap((r) => (r.ok ? [r.value.encryptedData] : []));

      const verified = await client.decryptVerifyBatch({ items: [...envelopes, 'not-an-envelope', theirs].map((encryptedData) => ({ encryptedData })) });
      const [first, second, malformed, foreign] = verified.results;
      assert.ok(first?.ok && second?.ok);
      assert.equal(first.value.decryptedData, SECRETS[0]);
      assert.equal(second.value.decryptedData, SECRETS[2]);
      assert.equal(first.value.isValidSignature, true);
      assert.equal(first.value.encryptedData, envelopes[0], 'each result echoes its envelope, for verifyOffline');
      assert.equal((await client.verifyOffline(first.value)).valid, true);
      assert.ok(malformed && !malformed.ok && malformed.error instanceof DecryptError);
      assert.ok(foreign && !foreign.ok && foreign.error instanceof AuthError);
      assert.equal(foreign.error.code, 'ENVELOPE_ACCESS_DENIED');

      const plain = await client.encryptBatch({ items: [{ data: 'plain one' }, { data: 'plain two' }] });
      const opened = await client.decryptBatch({ items: plain.results.map((r) => ({ encryptedData: r.ok ? r.value.encryptedData : '' })) });
      assert.deepEqual(
        opened.results.map((r) => (r.ok ? [r.value.decryptedData, r.value.signed] : r.error.code)),
        [
          ['plain one', false],
          ['plain two', false],
        ],
      );
    });
  }

  test('a batch refused as a whole throws, as a single call does', async () => {
    const client = clientFor(owner, 'managed');
    await assert.rejects(client.encryptBatch({ items: Array.from({ length: 21 }, () => ({ data: 'x' })) }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.code, 'BATCH_TOO_LARGE');
      assert.equal(e.status, 413);
      return true;
    });
    await assert.rejects(client.decryptBatch({ items: [] }), ValidationError);
  });
});

describe('CLI --batch', () => {
  const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

  function cli(args: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      PQSEAL_URL: server.url,
      PQSEAL_USERNAME: owner.username,
      PQSEAL_PASSWORD: owner.password,
      PQSEAL_API_KEY: owner.api_key,
      PQSEAL_ACCESS_KEY: owner.access_key,
      PQSEAL_SECRET_KEY: owner.secret_key,
    };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') }));
      child.stdin.end(input);
    });
  }

  let home: string;
  before(() => {
    home = tempDir('pqseal-batch-cli-');
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('sign-encrypt --batch - reads JSON lines from stdin; decrypt-verify --batch <file> prints one JSON line per result', async () => {
    const lines = `${JSON.stringify({ data: SECRETS[0] })}\n\n${JSON.stringify({ data: SECRETS[1], permissions: [{ partner_id: partner.org_id, permissions: ['read'] }] })}\n`;
    const sealed = await cli(['sign-encrypt', '--batch', '-'], lines);
    assert.equal(sealed.code, 0, sealed.err);
    const results = sealed.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { encrypted_data: string; envelope_id: string });
    assert.equal(results.length, 2, 'the empty line is no item');
    for (const r of results) assert.match(r.envelope_id, /^[0-9a-f]{32}$/);

    const file = join(home, 'envelopes.jsonl');
    writeFileSync(
      file,
      [...results.map((r) => ({ encrypted_data: r.encrypted_data })), { encrypted_data: 'not-an-envelope' }].map((o) => JSON.stringify(o)).join('\n'),
    );
    const opened = await cli(['decrypt-verify', '--batch', file, '--api', 'direct']);
    assert.equal(opened.code, 4, 'exit: the first failed item (a malformed envelope: verification)');
    const out = opened.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.length, 3);
    assert.equal(out[0]?.decrypted_data, SECRETS[0]);
    assert.equal(out[0]?.is_valid_signature, true);
    assert.equal(out[1]?.decrypted_data, SECRETS[1]);
    assert.match(String((out[2]?.error as { code?: string } | undefined)?.code), /^ENVELOPE_/);

    const plain = await cli(['decrypt', '--batch', file]);
    assert.equal(plain.code, 4);
    assert.equal(JSON.parse(plain.out.split('\n')[0] as string).signed, true);
  });

  test('a line that is not a JSON object, or --batch with --data, is a usage error (2) before anything is sent', async () => {
    const bad = await cli(['encrypt', '--batch', '-'], '{"data":"x"}\nnot json\n');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /line 2 is not JSON/);
    const both = await cli(['encrypt', '--batch', '-', '--data', 'x'], '{"data":"x"}\n');
    assert.equal(both.code, 2);
    assert.match(both.err, /drop --data/);
  });
});

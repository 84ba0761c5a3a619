import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { fromRow, GENESIS_HASH, recordHash, type AuditRecord } from '../../src/audit/record.js';
import type { AuditRecordsTable } from '../../src/ports/store-schema.js';
import type { Selectable } from 'kysely';
import { AuditWriter } from '../../src/audit/writer.js';
import { ThreadAuditSink } from '../../src/audit/append-thread.js';
import { failedDecryptEvent } from '../helpers/audit-events.js';
import { openStore } from '../../src/store/database.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { loadProviders } from '../../src/crypto/providers.js';
import {
  login,
  managedHeaders,
  partnerHeaders,
  post,
  registerSecret,
  startTestServer,
  storeEnv,
  tempDataDir,
  type JsonResponse,
  type TestServer,
  tempDir,
} from '../helpers/server.js';
import { sqliteOnly } from '../helpers/postgres.js';

/**
 * The audit log over real HTTP: one record per operation on both paths (failures included), the
 * API's pagination, filters and isolation, group commit, "no 2xx without a durable record", public
 * keys, and the CLI catching records edited, deleted and reordered directly in the SQLite file.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

let server: TestServer;
let alpha: NewOrganisation;
let beta: NewOrganisation;

before(async () => {
  // A 20 ms gathering window: on a loaded 2-core machine 40 concurrent requests can reach the audit
  // writer more than 1 ms (the default) apart, and the group-commit test below would see one batch each.
  server = await startTestServer({}, {}, { auditFlushMs: 20 });
  alpha = await server.createOrg('Alpha Audit Ltd');
  beta = await server.createOrg('Beta Audit Ltd');
  registerSecret('audited plaintext one', 'must not leak when unaudited', 'tamper target data');
});
after(() => server.stop());

async function get(url: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

async function auditPage(org: NewOrganisation, query = ''): Promise<{ records: AuditRecord[]; next_cursor: string | null }> {
  const res = await get(`${server.url}/v1/audit${query}`, managedHeaders(org));
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return res.json.body;
}

/** Every record of the org, newest first, following cursors. */
async function allRecords(org: NewOrganisation, filter = ''): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = await auditPage(org, `?limit=100${filter}${cursor ? `&cursor=${cursor}` : ''}`);
    out.push(...page.records);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}

const cli = (args: string[], dataDir: string) => run('node', [CLI, ...args], { env: { ...process.env, ...storeEnv(dataDir) } });
const cliExit = async (args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await cli(args, dataDir);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
};

describe('one record per operation, success or failure, on both paths', () => {
  test('managed and direct operations, with caller, credential, envelope, outcome, code and address — never a secret', async () => {
    const h = managedHeaders(alpha);
    const sealed = await post(
      `${server.url}/v1/sign-encrypt`,
      { ...h, 'x-request-id': 'audit-seal-1' },
      { data: 'audited plaintext one', permissions: [{ partner_id: beta.org_id, permissions: ['read'] }] },
    );
    assert.equal(sealed.status, 200);
    const envelopeId: string = sealed.json.body.envelope_id;

    const { IdToken } = await login(server.url, alpha);
    registerSecret(IdToken);
    const direct = await post(
      `${server.url}/decrypt`,
      { authorization: `Bearer ${IdToken}`, ...partnerHeaders(alpha), 'x-request-id': 'audit-open-1' },
      { encrypted_data: sealed.json.body.encrypted_data },
    );
    assert.equal(direct.status, 200);
    const bad = await post(`${server.url}/v1/decrypt`, { ...h, 'x-request-id': 'audit-bad-1' }, { encrypted_data: 'not an envelope!' });
    assert.equal(bad.status, 400);
    const schema = await post(`${server.url}/v1/encrypt`, { ...h, 'x-request-id': 'audit-schema-1' }, { data: 42 });
    assert.equal(schema.status, 400);
    const byPartner = await post(
      `${server.url}/v1/decrypt-verify`,
      { ...managedHeaders(beta), 'x-request-id': 'audit-partner-1' },
      { encrypted_data: sealed.json.body.encrypted_data },
    );
    assert.equal(byPartner.status, 200);

    const records = await allRecords(alpha);
    const byRequest = new Map(records.map((r) => [r.request_id, r]));
    const seal = byRequest.get('audit-seal-1');
    assert.ok(seal);
    assert.equal(seal.operation, 'sign-encrypt');
    assert.equal(seal.via, 'managed');
    assert.equal(seal.outcome, 'success');
    assert.equal(seal.http_status, 200);
    assert.equal(seal.org_id, alpha.org_id);
    assert.equal(seal.chain_id, alpha.org_id);
    assert.match(seal.user_id ?? '', /^usr_/);
    assert.match(seal.credential_id ?? '', /^cred_/);
    assert.equal(seal.envelope_id, envelopeId);
    assert.deepEqual(seal.partner_ids, [beta.org_id]);
    assert.equal(seal.client_address, '127.0.0.1');
    assert.match(seal.hash, /^[0-9a-f]{64}$/);

    const open = byRequest.get('audit-open-1');
    assert.equal(open?.operation, 'decrypt');
    assert.equal(open?.via, 'direct');
    assert.equal(open?.envelope_id, envelopeId);
    assert.equal(open?.envelope_owner_id, alpha.org_id);

    assert.deepEqual(
      [byRequest.get('audit-bad-1')?.outcome, byRequest.get('audit-bad-1')?.error_code, byRequest.get('audit-bad-1')?.http_status],
      ['failure', 'ENVELOPE_MALFORMED', 400],
    );
    // The caller is authenticated before the body is read, so a body that fails its schema is theirs.
    assert.deepEqual(
      [
        byRequest.get('audit-schema-1')?.outcome,
        byRequest.get('audit-schema-1')?.error_code,
        byRequest.get('audit-schema-1')?.http_status,
        byRequest.get('audit-schema-1')?.org_id,
      ],
      ['failure', 'VALIDATION_ERROR', 400, alpha.org_id],
    );

    // The partner's open is in the partner's log, naming the owner, and in the owner's log, naming the partner.
    const ownerCopy = byRequest.get('audit-partner-1');
    assert.equal(ownerCopy?.org_id, beta.org_id);
    assert.equal(ownerCopy?.chain_id, alpha.org_id);
    const betaRecords = await allRecords(beta);
    const partnerOpen = betaRecords.find((r) => r.request_id === 'audit-partner-1');
    assert.equal(partnerOpen?.operation, 'decrypt-verify');
    assert.equal(partnerOpen?.envelope_owner_id, alpha.org_id);
    assert.deepEqual(partnerOpen?.partner_ids, [beta.org_id]);

    const text = JSON.stringify([...records, ...betaRecords]);
    for (const secret of [
      alpha.password,
      alpha.secret_key,
      alpha.access_key,
      alpha.api_key,
      beta.password,
      beta.secret_key,
      IdToken,
      'audited plaintext one',
    ]) {
      assert.equal(text.includes(secret), false, 'no secret, token or plaintext in an audit record');
    }
  });

  test('failed logins and requests without a known organisation go to the _service chain', { skip: sqliteOnly('reads pqseal.db') }, async () => {
    const res = await post(
      `${server.url}/v1/encrypt`,
      { ...managedHeaders(alpha), username: 'nobody-at-all', 'x-request-id': 'audit-unknown-user' },
      { data: 'x' },
    );
    assert.equal(res.status, 401);
    const { secret_key: _omitted, ...withoutSecret } = managedHeaders(alpha);
    const headers = await post(`${server.url}/v1/encrypt`, { ...withoutSecret, 'x-request-id': 'audit-headers-1' }, { data: 'x' });
    assert.equal(headers.status, 400);
    const db = new BetterSqlite3(join(server.dataDir, 'pqseal.db'), { readonly: true });
    try {
      const row = db.prepare('select chain_id, org_id, outcome, error_code, http_status from audit_records where request_id = ?').get('audit-unknown-user');
      assert.deepEqual(row, { chain_id: '_service', org_id: null, outcome: 'failure', error_code: 'NOT_AUTHORIZED', http_status: 401 });
      // A request whose headers fail their schema is refused before anyone is known.
      const schema = db.prepare('select chain_id, error_code from audit_records where request_id = ?').get('audit-headers-1');
      assert.deepEqual(schema, { chain_id: '_service', error_code: 'VALIDATION_ERROR' });
    } finally {
      db.close();
    }
  });

  test('group commit: records arriving together share one transaction, and every request has its record', async () => {
    const h = managedHeaders(alpha);
    const before = { ...server.services.auditWriter.stats };
    const n = 40;
    // Malformed envelopes are refused on the event loop without a worker, so their records arrive together.
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => post(`${server.url}/v1/decrypt`, { ...h, 'x-request-id': `gc-${i}` }, { encrypted_data: `broken-${i}!` })),
    );
    assert.ok(results.every((r) => r.status === 400));
    const batches = server.services.auditWriter.stats.batches - before.batches;
    const records = server.services.auditWriter.stats.records - before.records;
    assert.equal(records, n);
    assert.ok(batches < n, `expected fewer transactions than records, got ${batches} for ${n}`);
    const ids = new Set((await allRecords(alpha, '&operation=decrypt&outcome=failure')).map((r) => r.request_id));
    for (let i = 0; i < n; i++) assert.ok(ids.has(`gc-${i}`));
  });

  test('group commit (writer level): 600 appends at once take 3 transactions and form one unbroken chain', async () => {
    const store = await openStore({ filename: join(tempDataDir(), 'writer.db') });
    try {
      const writer = new AuditWriter(new ThreadAuditSink(store.filename), { flushDelayMs: 1, maxBatch: 256 });
      const event = (i: number) => failedDecryptEvent(i, i % 2 ? 'org_a' : null);
      const records = await Promise.all(Array.from({ length: 600 }, (_, i) => writer.append(event(i))));
      await writer.close();
      assert.equal(writer.stats.batches, 3);
      assert.deepEqual(
        records.filter((r) => r.chain_id === 'org_a').map((r) => r.seq),
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      assert.deepEqual(
        records.filter((r) => r.chain_id === '_service').map((r) => r.seq),
        Array.from({ length: 300 }, (_, i) => i + 1),
      );
      let prev = GENESIS_HASH;
      for (const r of records.filter((x) => x.chain_id === 'org_a')) {
        assert.equal(recordHash(prev, r), r.hash);
        prev = r.hash;
      }
      await assert.rejects(writer.append(event(0)), /closed/);
    } finally {
      await store.close();
    }
  });
});

describe('GET /v1/audit and GET /audit', () => {
  test('newest first, cursor pagination without gaps or repeats, filters', async () => {
    const h = managedHeaders(beta);
    const sealed = await post(`${server.url}/v1/encrypt`, h, { data: 'paging' });
    const envelopeId: string = sealed.json.body.envelope_id;
    for (let i = 0; i < 12; i++) await post(`${server.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data });
    for (let i = 0; i < 3; i++) await post(`${server.url}/v1/decrypt`, h, { encrypted_data: 'broken!' });

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await auditPage(beta, `?limit=5&operation=decrypt${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.records.length <= 5);
      seen.push(...page.records.map((r) => r.seq));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    assert.ok(pages >= 3);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => b - a),
      'newest first',
    );
    assert.equal(new Set(seen).size, seen.length, 'no record twice');
    const all = (await allRecords(beta)).filter((r) => r.operation === 'decrypt').map((r) => r.seq);
    assert.deepEqual(seen, all, 'the pages together are exactly the filtered log');

    const byEnvelope = await allRecords(beta, `&envelope_id=${envelopeId}`);
    assert.equal(byEnvelope.length, 13);
    assert.ok(byEnvelope.every((r) => r.envelope_id === envelopeId));
    const failures = await allRecords(beta, '&outcome=failure&operation=decrypt');
    assert.ok(failures.length >= 3 && failures.every((r) => r.outcome === 'failure' && r.error_code === 'ENVELOPE_MALFORMED'));

    const newest = (await auditPage(beta, '?limit=1')).records[0] as AuditRecord;
    const later = new Date(Date.parse(newest.time) + 1).toISOString();
    assert.equal((await auditPage(beta, `?operation=decrypt&from=${encodeURIComponent(later)}`)).records.length, 0);
    const upTo = await allRecords(beta, `&to=${encodeURIComponent(later)}`);
    assert.ok(upTo.some((r) => r.seq === newest.seq));
  });

  test('an organisation sees only its own records, on both paths; reading is itself recorded', async () => {
    for (const org of [alpha, beta]) {
      const records = await allRecords(org);
      assert.ok(records.length > 0);
      assert.ok(records.every((r) => r.chain_id === org.org_id));
      // Another organisation's record appears only as a partner's open of this organisation's envelope.
      assert.ok(records.every((r) => r.org_id === org.org_id || (r.envelope_owner_id === org.org_id && ['decrypt', 'decrypt-verify'].includes(r.operation))));
    }
    const { IdToken } = await login(server.url, beta);
    registerSecret(IdToken);
    const direct = await get(`${server.url}/audit?limit=3`, { authorization: `Bearer ${IdToken}`, ...partnerHeaders(beta) });
    assert.equal(direct.status, 200);
    assert.equal(direct.json.statusCode, undefined);
    assert.equal(direct.json.records.length, 3);
    assert.ok(direct.json.records.every((r: AuditRecord) => r.chain_id === beta.org_id));
    assert.ok((await allRecords(beta, '&operation=audit.list')).length > 0);
  });

  test('bad queries are 400, missing credentials 400/401', async () => {
    for (const q of ['?limit=0', '?limit=abc', '?outcome=maybe', '?from=yesterday', '?operation=nope', '?cursor=bm9wZQ', '?whatever=1']) {
      const res = await get(`${server.url}/v1/audit${q}`, managedHeaders(alpha));
      assert.equal(res.status, 400, q);
      assert.ok(['VALIDATION_ERROR', 'INVALID_CURSOR'].includes(res.json.body.error.code), q);
    }
    assert.equal((await get(`${server.url}/v1/audit`)).status, 400);
    assert.equal((await get(`${server.url}/audit`, { authorization: 'Bearer abc.def.ghi', ...partnerHeaders(alpha) })).status, 401);
  });
});

describe('no 2xx without a durable record', () => {
  test(
    'when the audit log cannot be written, operations answer 503 without data and revocations change nothing',
    { skip: sqliteOnly('injects the fault with a SQLite trigger') },
    async () => {
      const h = managedHeaders(alpha);
      const sealed = await post(`${server.url}/v1/encrypt`, h, {
        data: 'must not leak when unaudited',
        permissions: [{ partner_id: beta.org_id, permissions: ['read'] }],
      });
      // Before the audit goes down: logins are audited too (test/integration/server.logins.test.ts).
      const token = (await login(server.url, alpha)).IdToken;
      const db = new BetterSqlite3(join(server.dataDir, 'pqseal.db'));
      db.pragma('busy_timeout = 5000');
      try {
        db.exec(`create trigger audit_down before insert on audit_records begin select raise(abort, 'audit disk full'); end`);
        const res = await post(`${server.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data });
        assert.equal(res.status, 503);
        assert.equal(res.json.statusCode, 503);
        assert.equal(res.json.body.error.code, 'AUDIT_UNAVAILABLE');
        assert.ok(!JSON.stringify(res.json).includes('must not leak'));
        const direct = await post(`${server.url}/encrypt`, { authorization: `Bearer ${token}`, ...partnerHeaders(alpha) }, { data: 'x' });
        assert.equal(direct.status, 503);
        assert.equal(direct.json.code, 'AUDIT_UNAVAILABLE');

        const revoke = await post(`${server.url}/v1/permissions/revoke`, h, { partner_id: beta.org_id, envelope_id: sealed.json.body.envelope_id });
        assert.equal(revoke.status, 503);
        assert.equal(revoke.json.body.error.code, 'STORE_UNAVAILABLE');
        const rows = db
          .prepare('select count(*) as n from revocations where owner_org_id = ? and envelope_id = ?')
          .get(alpha.org_id, sealed.json.body.envelope_id) as { n: number };
        assert.equal(rows.n, 0, 'the revocation rolled back with its audit record');
      } finally {
        db.exec('drop trigger audit_down');
        db.close();
      }
      const ok = await post(`${server.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(ok.status, 200);
    },
  );
});

describe('periodic checkpoints', () => {
  test('the server signs changed chain heads on its interval', async () => {
    const s = await startTestServer({}, {}, { checkpointIntervalSeconds: 0.05 });
    try {
      const org = await s.createOrg('Periodic Ltd');
      await post(`${s.url}/v1/encrypt`, managedHeaders(org), { data: 'x' });
      let checkpoints: { seq: number }[] = [];
      for (let i = 0; i < 100 && checkpoints.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        checkpoints = await s.services.checkpoints.list(org.org_id);
      }
      assert.equal(checkpoints[0]?.seq, 1);
    } finally {
      await s.stop();
    }
  });
});

describe('public keys', () => {
  test('organisation keys and the service key, documented format, both paths, unauthenticated', async () => {
    const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(alpha), { data: 'key check' });
    const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(alpha), { encrypted_data: sealed.json.body.encrypted_data });

    const plain = await get(`${server.url}/keys/${alpha.org_id}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.json.org_id, alpha.org_id);
    assert.equal(plain.json.name, 'Alpha Audit Ltd');
    assert.deepEqual(
      plain.json.keys.map((k: { kind: string; version: number; algorithm: string; active: boolean }) => [k.kind, k.version, k.algorithm, k.active]),
      [
        ['signing', 1, 'MLDSA65-Ed25519-SHA512', true],
        ['kem', 1, 'X-Wing', true],
      ],
    );
    const signing = plain.json.keys[0];
    assert.equal(signing.key_id, opened.json.body.signer_key_id, 'decrypt-verify names the published key');
    assert.equal(Buffer.from(signing.public_key, 'base64url').length, 1984);
    assert.equal(Buffer.from(plain.json.keys[1].public_key, 'base64url').length, 1216);
    assert.match(signing.created_at, /^\d{4}-\d\d-\d\dT/);

    const wrapped = await get(`${server.url}/v1/keys/${alpha.org_id}`);
    assert.deepEqual(wrapped.json, { statusCode: 200, body: plain.json });

    const service = await get(`${server.url}/keys/service`);
    assert.equal(service.status, 200);
    assert.equal(service.json.org_id, '_service');
    assert.equal(service.json.keys[0].key_id, '_service.sig.v1');
    assert.equal(service.json.keys[0].purpose, 'audit-checkpoint');
    assert.equal(service.json.keys[0].context, 'pqseal-audit-checkpoint-v1');
    assert.deepEqual((await get(`${server.url}/v1/keys/service`)).json.body, service.json);

    const missing = await get(`${server.url}/v1/keys/org_doesnotexist000000`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.body.error.code, 'ORGANISATION_NOT_FOUND');
    assert.equal((await get(`${server.url}/keys/bad%20id`)).status, 400);
  });
});

describe('pqseal audit verify catches tampering in the SQLite file', { skip: sqliteOnly('edits pqseal.db') }, () => {
  /** One chain per kind of tampering, all with the same history, plus one left alone. */
  const KINDS = ['untouched', 'edit', 'delete', 'reorder', 'truncate', 'rewrite'] as const;
  type Kind = (typeof KINDS)[number];
  let dataDir: string;
  const orgs = new Map<Kind, NewOrganisation>();
  let serviceKeyFile: string;
  let last: number;
  let failureSeq: number;

  before(async () => {
    dataDir = tempDataDir();
    const s = await startTestServer({ dataDir });
    try {
      const partner = await s.createOrg('Tamper Partner');
      for (const kind of KINDS) orgs.set(kind, await s.createOrg(`Tamper ${kind}`));
      await Promise.all(
        KINDS.map(async (kind) => {
          const h = managedHeaders(orgs.get(kind) as NewOrganisation);
          const sealed = await post(`${s.url}/v1/sign-encrypt`, h, {
            data: 'tamper target data',
            permissions: [{ partner_id: partner.org_id, permissions: ['read'] }],
          });
          for (let i = 0; i < 3; i++) await post(`${s.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
          await post(`${s.url}/v1/decrypt`, h, { encrypted_data: 'garbage!' });
          await post(`${s.url}/v1/permissions/revoke`, h, { partner_id: partner.org_id });
          await Promise.all(Array.from({ length: 4 }, () => post(`${s.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data })));
        }),
      );
      // A second process appends to a chain while the server does: the chain must not fork.
      const untouched = orgs.get('untouched') as NewOrganisation;
      const restoring = cli(['permissions', 'restore', '--org', untouched.org_id, '--partner', partner.org_id], dataDir);
      const h = managedHeaders(untouched);
      for (let i = 0; i < 10; i++) await post(`${s.url}/v1/encrypt`, h, { data: 'concurrent with the CLI' });
      await restoring;
      await cli(['audit', 'checkpoint'], dataDir);
      for (const kind of KINDS) await post(`${s.url}/v1/encrypt`, managedHeaders(orgs.get(kind) as NewOrganisation), { data: 'after the checkpoint' });
      // Beside the test's other files, not in the shared temp folder (dataDir's parent).
      serviceKeyFile = join(tempDir(), `${untouched.org_id}-service-key.json`);
      writeFileSync(serviceKeyFile, JSON.stringify((await get(`${s.url}/keys/service`)).json));
    } finally {
      await s.stop({ keepData: true }); // a clean shutdown signs the final heads
    }
    const db = new BetterSqlite3(join(dataDir, 'pqseal.db'), { readonly: true });
    const edit = (orgs.get('edit') as NewOrganisation).org_id;
    last = (db.prepare('select max(seq) as n from audit_records where chain_id = ?').get(edit) as { n: number }).n;
    failureSeq = (db.prepare(`select seq from audit_records where chain_id = ? and error_code = 'ENVELOPE_MALFORMED'`).get(edit) as { seq: number }).seq;
    db.close();
    assert.equal(last, 11);
  });

  test('the untouched store verifies: every chain, checkpoints signed, server and CLI appends interleaved without a fork', async () => {
    const result = await cliExit(['audit', 'verify', '--json'], dataDir);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      chains: { chain_id: string; ok: boolean; records: number; checkpoints: number; unsigned_tail: number }[];
    };
    assert.equal(report.ok, true);
    const untouched = orgs.get('untouched') as NewOrganisation;
    const chain = report.chains.find((c) => c.chain_id === untouched.org_id);
    assert.equal(chain?.records, 22);
    assert.ok((chain?.checkpoints ?? 0) >= 2);
    assert.equal(chain?.unsigned_tail, 0, 'the shutdown checkpoint covers the whole chain');
    const human = await cliExit(['audit', 'verify', '--org', untouched.org_id, '--from', '5'], dataDir);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`chain ${untouched.org_id}: OK, 18 records \\(5–22\\)`));
  });

  describe('edited, deleted, reordered, truncated and rewritten chains, each caught at its first broken record', () => {
    let report: Map<string, { ok: boolean; first_broken: { seq: number; reason: string } | null }>;
    let human: { code: number; stdout: string };
    const chainOf = (kind: Kind) => (orgs.get(kind) as NewOrganisation).org_id;

    before(async () => {
      const copy = tempDataDir();
      cpSync(dataDir, copy, { recursive: true });
      const db = new BetterSqlite3(join(copy, 'pqseal.db'));
      try {
        // A failure turned into a success.
        db.prepare(`update audit_records set outcome = 'success', error_code = null, http_status = 200 where chain_id = ? and seq = ?`).run(
          chainOf('edit'),
          failureSeq,
        );
        db.prepare('delete from audit_records where chain_id = ? and seq = 4').run(chainOf('delete'));
        db.transaction(() => {
          const move = db.prepare('update audit_records set seq = ? where chain_id = ? and seq = ?');
          move.run(-1, chainOf('reorder'), 3);
          move.run(3, chainOf('reorder'), 6);
          move.run(6, chainOf('reorder'), -1);
        })();
        db.prepare('delete from audit_records where chain_id = ? and seq >= ?').run(chainOf('truncate'), last - 1);
        // An edit with every later hash recomputed and the head rewritten: only the signed checkpoint can tell.
        const rows = db.prepare('select * from audit_records where chain_id = ? order by seq').all(chainOf('rewrite')) as Record<string, unknown>[];
        const update = db.prepare('update audit_records set client_address = ?, hash = ? where chain_id = ? and seq = ?');
        let prev = GENESIS_HASH;
        for (const row of rows) {
          const record = toRecord(row);
          const edited = record.seq === 2 ? { ...record, client_address: '10.6.6.6' } : record;
          prev = recordHash(prev, edited);
          update.run(edited.client_address, prev, chainOf('rewrite'), record.seq);
        }
        db.prepare('update audit_heads set hash = ? where chain_id = ?').run(prev, chainOf('rewrite'));
      } finally {
        db.close();
      }
      const json = await cliExit(['audit', 'verify', '--json'], copy);
      assert.equal(json.code, 4, `exit code 4 expected; ${json.stdout} ${json.stderr}`);
      report = new Map(
        (JSON.parse(json.stdout) as { chains: { chain_id: string; ok: boolean; first_broken: { seq: number; reason: string } | null }[] }).chains.map((c) => [
          c.chain_id,
          c,
        ]),
      );
      human = await cliExit(['audit', 'verify'], copy);
    });

    const expectations: [Kind, () => number, RegExp][] = [
      ['edit', () => failureSeq, /^HASH_MISMATCH$/],
      ['delete', () => 4, /^SEQUENCE_GAP$/],
      ['reorder', () => 3, /^HASH_MISMATCH$/],
      ['truncate', () => last - 1, /^(CHECKPOINT_BEYOND_END|HEAD_MISMATCH)$/],
      ['rewrite', () => 2, /^CHECKPOINT_MISMATCH$/],
    ];
    for (const [kind, seq, reason] of expectations) {
      test(`${kind}`, () => {
        const chain = report.get(chainOf(kind));
        assert.equal(chain?.ok, false);
        if (kind === 'rewrite') assert.ok((chain?.first_broken?.seq ?? 0) >= seq(), 'caught at the first checkpoint after the edit');
        else assert.equal(chain?.first_broken?.seq, seq());
        assert.match(chain?.first_broken?.reason ?? '', reason);
        if (kind !== 'rewrite') assert.match(human.stdout, new RegExp(`chain ${chainOf(kind)}: BROKEN at record ${seq()} `));
      });
    }

    test('the chain nobody touched still verifies, and the exit code is 4', () => {
      assert.equal(report.get(chainOf('untouched'))?.ok, true);
      assert.equal(human.code, 4);
    });
  });

  test('export, then verify offline against the published service key; an edited export or another key fails', async () => {
    const org = orgs.get('untouched') as NewOrganisation;
    const out = join(tempDataDir(), 'export.jsonl');
    const exported = await cliExit(['audit', 'export', '--org', org.org_id, '--out', out, '--json'], dataDir);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).records, 22);
    const text = readFileSync(out, 'utf8');
    const lines = text.trim().split('\n');
    assert.equal(JSON.parse(lines[0] as string).format, 'pqseal-audit-export-v1');
    assert.ok(!text.includes(org.password) && !text.includes(org.secret_key));

    const okRun = await cliExit(['audit', 'verify', '--file', out, '--service-key', serviceKeyFile], tempDataDir());
    assert.equal(okRun.code, 0, okRun.stdout + okRun.stderr);
    assert.match(okRun.stdout, /OK, 22 records/);

    const editedFile = `${out}.edited`;
    writeFileSync(
      editedFile,
      `${lines
        .map((l) => {
          const v = JSON.parse(l) as { type: string; seq?: number };
          return v.type === 'record' && v.seq === 2 ? JSON.stringify({ ...v, operation: 'encrypt' }) : l;
        })
        .join('\n')}\n`,
    );
    const bad = await cliExit(['audit', 'verify', '--file', editedFile, '--service-key', serviceKeyFile, '--json'], tempDataDir());
    assert.equal(bad.code, 4);
    assert.equal(JSON.parse(bad.stdout).chains[0].first_broken.seq, 2);

    // A key that is not the service's (same key id, another key) does not vouch for the checkpoints.
    const providers = await loadProviders('fastest');
    const impostor = providers.composite.expandSecret(new Uint8Array(64).fill(7));
    const doc = JSON.parse(readFileSync(serviceKeyFile, 'utf8')) as { keys: { public_key: string }[] };
    const foreignKey = `${out}.foreign-key.json`;
    writeFileSync(
      foreignKey,
      JSON.stringify({ ...doc, keys: doc.keys.map((k) => ({ ...k, public_key: Buffer.from(impostor.publicKey).toString('base64url') })) }),
    );
    const wrongKey = await cliExit(['audit', 'verify', '--file', out, '--service-key', foreignKey, '--json'], tempDataDir());
    assert.equal(wrongKey.code, 4);
    assert.equal(JSON.parse(wrongKey.stdout).chains[0].first_broken.reason, 'CHECKPOINT_SIGNATURE_INVALID');
  });

  test('export --out refuses a symbolic link (exit 2, nothing written through it) and replaces an existing 0644 file with a 0600 one', async () => {
    const org = orgs.get('untouched') as NewOrganisation;
    const dir = tempDir('pqseal-export-out-');
    try {
      const target = join(dir, 'target.txt');
      writeFileSync(target, 'untouched\n', { mode: 0o644 });
      const link = join(dir, 'link.jsonl');
      symlinkSync(target, link);
      const refused = await cliExit(['audit', 'export', '--org', org.org_id, '--out', link], dataDir);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /link\.jsonl is a symbolic link; refusing to write through it/);
      assert.equal(readFileSync(target, 'utf8'), 'untouched\n', 'the link target is not written');
      assert.ok(lstatSync(link).isSymbolicLink(), 'the link is left as it was');
      const dangling = join(dir, 'dangling.jsonl');
      symlinkSync(join(dir, 'nowhere.jsonl'), dangling);
      assert.equal((await cliExit(['audit', 'export', '--org', org.org_id, '--out', dangling], dataDir)).code, 2);
      assert.throws(() => statSync(join(dir, 'nowhere.jsonl')), /ENOENT/, 'a dangling link does not create its target');
      assert.deepEqual(readdirSync(dir).sort(), ['dangling.jsonl', 'link.jsonl', 'target.txt'], 'no temporary file left behind');

      const existing = join(dir, 'existing.jsonl');
      writeFileSync(existing, 'old public content\n', { mode: 0o644 });
      chmodSync(existing, 0o644);
      const replaced = await cliExit(['audit', 'export', '--org', org.org_id, '--out', existing], dataDir);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.equal(statSync(existing).mode & 0o777, 0o600, "the export is private, whatever the old file's mode");
      assert.equal(JSON.parse(readFileSync(existing, 'utf8').split('\n')[0] as string).format, 'pqseal-audit-export-v1');
      assert.ok(!readFileSync(existing, 'utf8').includes('old public content'));
      assert.deepEqual(readdirSync(dir).sort(), ['dangling.jsonl', 'existing.jsonl', 'link.jsonl', 'target.txt']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('checkpoint signatures verify with the published key (library level, as a third party would)', async () => {
    const org = orgs.get('untouched') as NewOrganisation;
    const providers = await loadProviders('fastest');
    const doc = JSON.parse(readFileSync(serviceKeyFile, 'utf8')) as { keys: { public_key: string }[] };
    const key = providers.composite.parsePublic(new Uint8Array(Buffer.from(doc.keys[0]?.public_key ?? '', 'base64url')));
    const db = new BetterSqlite3(join(dataDir, 'pqseal.db'), { readonly: true });
    const [cp, previous] = db.prepare('select * from audit_checkpoints where chain_id = ? order by seq desc limit 2').all(org.org_id) as {
      chain_id: string;
      seq: number;
      hash: string;
      signed_at: number;
      key_id: string;
      signature: Buffer;
      format: number;
      prev: string | null;
    }[];
    db.close();
    assert.ok(cp && previous);
    assert.equal(cp.format, 2);
    const messageOf = (c: typeof cp) =>
      `{"chain_id":${JSON.stringify(c.chain_id)},"hash":"${c.hash}","key_id":"${c.key_id}","prev":${c.prev === null ? 'null' : `"${c.prev}"`},"seq":${c.seq},"signed_at":"${new Date(c.signed_at).toISOString()}","type":"pqseal-audit-checkpoint-v2"}`;
    // Chained: prev is SHA-256 of the previous checkpoint's signed message.
    assert.equal(cp.prev, createHash('sha256').update(messageOf(previous)).digest('hex'));
    const message = new TextEncoder().encode(messageOf(cp));
    const ctx = new TextEncoder().encode('pqseal-audit-checkpoint-v1');
    assert.equal(providers.composite.verify(key, message, new Uint8Array(cp.signature), ctx), true);
    assert.equal(providers.composite.verify(key, message, new Uint8Array(cp.signature), new TextEncoder().encode('pqseal-envelope-v1')), false);
  });
});

function toRecord(row: Record<string, unknown>): AuditRecord {
  return fromRow(row as unknown as Selectable<AuditRecordsTable>);
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { NewOrganisation } from '../../src/core/organisations.js';
import {
  login,
  managedHeaders,
  partnerHeaders,
  post,
  registerSecret,
  startTestServer,
  storeEnv,
  type JsonResponse,
  type TestServer,
} from '../helpers/server.js';
import { sqliteOnly } from '../helpers/postgres.js';

/**
 * Partner sharing over real HTTP with three organisations (owner, permitted partners, stranger):
 * grants bound into the envelope, expiry on an injectable clock, revocation per envelope and
 * partner-wide (API and CLI), restore, tampering with the bound list, and fail-closed revocation reads.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

let server: TestServer;
let owner: NewOrganisation;
let partner: NewOrganisation;
let partner2: NewOrganisation;
let stranger: NewOrganisation;
/** The services' clock: real time plus an offset the expiry test moves forward. */
const SECRET_TEXT = 'shared record: patient 4711, diagnosis confidential';
let clockOffsetMs = 0;
const now = () => Date.now() + clockOffsetMs;

before(async () => {
  server = await startTestServer({}, {}, { now });
  owner = await server.createOrg('Owner Health Trust');
  partner = await server.createOrg('Permitted Partner Insurance');
  partner2 = await server.createOrg('Second Partner Bank');
  stranger = await server.createOrg('Stranger Corp');
  registerSecret(SECRET_TEXT);
});
after(() => server.stop());

async function get(url: string, headers: Record<string, string>): Promise<JsonResponse> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

const grant = (org: NewOrganisation, extra: Record<string, unknown> = {}) => ({ partner_id: org.org_id, permissions: ['read'], ...extra });

async function seal(permissions: unknown[], op: 'sign-encrypt' | 'encrypt' = 'sign-encrypt', data = SECRET_TEXT): Promise<{ env: string; id: string }> {
  const res = await post(`${server.url}/v1/${op}`, managedHeaders(owner), { data, permissions });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { env: res.json.body.encrypted_data, id: res.json.body.envelope_id };
}

async function open(org: NewOrganisation, env: string, op: 'decrypt' | 'decrypt-verify' = 'decrypt'): Promise<JsonResponse> {
  return post(`${server.url}/v1/${op}`, managedHeaders(org), { encrypted_data: env });
}

async function revoke(org: NewOrganisation, body: Record<string, unknown>, action: 'revoke' | 'restore' = 'revoke'): Promise<JsonResponse> {
  return post(`${server.url}/v1/permissions/${action}`, managedHeaders(org), body);
}

/** The one refusal everybody gets: stranger, not listed, expired, revoked. */
function assertDenied(res: JsonResponse, label: string): void {
  assert.equal(res.status, 403, `${label}: ${JSON.stringify(res.json)}`);
  assert.deepEqual(
    res.json,
    { statusCode: 403, body: { error: { code: 'ENVELOPE_ACCESS_DENIED', message: 'this organisation may not open this envelope' } } },
    label,
  );
}

describe('sharing an envelope with partner organisations', () => {
  test('the permitted partner opens it (decrypt and decrypt-verify, both paths); signed_by names the owner', async () => {
    const { env, id } = await seal([grant(partner), grant(partner2)]);
    assert.match(id, /^[0-9a-f]{32}$/);

    const dv = await open(partner, env, 'decrypt-verify');
    assert.equal(dv.status, 200, JSON.stringify(dv.json));
    assert.equal(dv.json.body.decrypted_data, SECRET_TEXT);
    assert.equal(dv.json.body.is_valid_signature, true);
    assert.equal(dv.json.body.signed_by, 'Owner Health Trust');
    assert.equal(dv.json.body.signer_org_id, owner.org_id);
    assert.equal(dv.json.body.envelope_id, id);

    const d = await open(partner2, env);
    assert.equal(d.json.body.decrypted_data, SECRET_TEXT);

    const { IdToken } = await login(server.url, partner);
    registerSecret(IdToken);
    const direct = await post(`${server.url}/decrypt-verify`, { authorization: `Bearer ${IdToken}`, ...partnerHeaders(partner) }, { encrypted_data: env });
    assert.equal(direct.status, 200);
    assert.equal(direct.json.signed_by, 'Owner Health Trust');

    const own = await open(owner, env, 'decrypt-verify');
    assert.equal(own.json.body.decrypted_data, SECRET_TEXT);
  });

  test('an unsigned (encrypt) envelope is shared the same way', async () => {
    const { env } = await seal([grant(partner)], 'encrypt');
    const d = await open(partner, env);
    assert.equal(d.status, 200);
    assert.equal(d.json.body.decrypted_data, SECRET_TEXT);
  });

  test('a stranger gets the same 403 as a partner that is not listed — no hint whether it is named', async () => {
    const shared = await seal([grant(partner)]);
    const notShared = await seal([]);
    const strangerRes = await open(stranger, shared.env);
    const unlistedRes = await open(partner, notShared.env);
    assertDenied(strangerRes, 'stranger');
    assertDenied(unlistedRes, 'partner not listed');
    assert.deepEqual(strangerRes.json, unlistedRes.json);
    assert.ok(!JSON.stringify(strangerRes.json).includes(SECRET_TEXT));
  });

  test('the hosted API\'s ["read","write"] is accepted; "write" alone grants nothing', async () => {
    const both = await seal([{ partner_id: partner.org_id, permissions: ['read', 'write'] }]);
    assert.equal((await open(partner, both.env)).status, 200);
    const writeOnly = await seal([{ partner_id: partner.org_id, permissions: ['write'] }]);
    assertDenied(await open(partner, writeOnly.env), 'write-only partner');
  });

  test('permission lists: unknown action, unknown partner, duplicates, the owner itself, past expiry, more than 64 entries are 400', async () => {
    const h = managedHeaders(owner);
    const cases: [unknown, RegExp][] = [
      [[{ partner_id: partner.org_id, permissions: ['delete'] }], /must be one of "read", "write"/],
      [[{ partner_id: 'org_doesnotexist000000', permissions: ['read'] }], /unknown partner/],
      [[grant(partner), grant(partner)], /listed twice/],
      [[grant(owner)], /owner organisation/],
      [[grant(partner, { expires_at: '2001-01-01T00:00:00Z' })], /in the past/],
      [[grant(partner, { expires_at: 'tomorrow' })], /expires_at/],
      [Array.from({ length: 65 }, () => grant(partner)), /must NOT have more than 64 items/],
    ];
    for (const [permissions, message] of cases) {
      const res = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'x', permissions });
      assert.equal(res.status, 400, JSON.stringify(permissions).slice(0, 80));
      assert.equal(res.json.body.error.code, 'VALIDATION_ERROR');
      assert.match(res.json.body.error.message, message);
    }
  });
});

describe('expiry (injectable clock, no sleeping)', () => {
  test('a grant opens until expires_at, then the partner gets the same 403; others are unaffected', async () => {
    const expiresAt = new Date(now() + 10 * 60_000).toISOString();
    const { env } = await seal([grant(partner, { expires_at: expiresAt }), grant(partner2)]);
    assert.equal((await open(partner, env)).status, 200);
    try {
      clockOffsetMs = 11 * 60_000;
      assertDenied(await open(partner, env), 'expired grant');
      assertDenied(await open(partner, env, 'decrypt-verify'), 'expired grant, decrypt-verify');
      assert.equal((await open(partner2, env)).status, 200, 'a grant without expiry still opens');
      assert.equal((await open(owner, env)).status, 200, 'the owner is never affected');
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('revocation', () => {
  test('revoking one envelope: refused at once for that partner and envelope only; restore gives it back', async () => {
    const e1 = await seal([grant(partner), grant(partner2)]);
    const e2 = await seal([grant(partner), grant(partner2)]);

    const r = await revoke(owner, { partner_id: partner.org_id, envelope_id: e1.id });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.deepEqual(
      { ...r.json.body, revoked_at: typeof r.json.body.revoked_at },
      {
        owner_org_id: owner.org_id,
        partner_id: partner.org_id,
        envelope_id: e1.id,
        scope: 'envelope',
        revoked: true,
        changed: true,
        revoked_at: 'string',
        access_revoked: true,
      },
    );

    assertDenied(await open(partner, e1.env), 'revoked envelope');
    assertDenied(await open(partner, e1.env, 'decrypt-verify'), 'revoked envelope, decrypt-verify');
    assert.equal((await open(partner, e2.env)).status, 200, 'another envelope of the owner');
    assert.equal((await open(partner2, e1.env)).status, 200, 'another partner');
    assert.equal((await open(owner, e1.env)).status, 200, 'the owner');

    const again = await revoke(owner, { partner_id: partner.org_id, envelope_id: e1.id });
    assert.equal(again.json.body.changed, false, 'revoke is idempotent');

    const listed = await get(`${server.url}/v1/permissions?envelope_id=${e1.id}`, managedHeaders(owner));
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.json.body.revocations.map((x: { partner_id: string; scope: string }) => [x.partner_id, x.scope]),
      [[partner.org_id, 'envelope']],
    );

    const restored = await revoke(owner, { partner_id: partner.org_id, envelope_id: e1.id }, 'restore');
    assert.equal(restored.status, 200);
    assert.equal(restored.json.body.changed, true);
    assert.equal(restored.json.body.revoked, false);
    assert.equal(restored.json.body.access_revoked, false);
    const back = await open(partner, e1.env, 'decrypt-verify');
    assert.equal(back.status, 200);
    assert.equal(back.json.body.decrypted_data, SECRET_TEXT);
  });

  test('revoking a partner for all envelopes (Direct API), restoring one envelope keeps it refused, restoring all gives access back', async () => {
    const e1 = await seal([grant(partner), grant(partner2)]);
    const e2 = await seal([grant(partner)]);
    const { IdToken } = await login(server.url, owner);
    registerSecret(IdToken);
    const h = { authorization: `Bearer ${IdToken}`, ...partnerHeaders(owner) };

    const r = await post(`${server.url}/permissions/revoke`, h, { partner_id: partner.org_id });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.statusCode, undefined, 'Direct answers are plain JSON');
    assert.equal(r.json.scope, 'all_envelopes');
    assert.equal(r.json.envelope_id, null);

    assertDenied(await open(partner, e1.env), 'partner-wide, e1');
    assertDenied(await open(partner, e2.env), 'partner-wide, e2');
    assert.equal((await open(partner2, e1.env)).status, 200, 'another partner');
    assert.equal((await open(owner, e2.env)).status, 200, 'the owner');

    const listed = await get(`${server.url}/permissions?envelope_id=${e1.id}`, h);
    assert.equal(listed.status, 200);
    assert.ok(listed.json.revocations.some((x: { partner_id: string; scope: string }) => x.partner_id === partner.org_id && x.scope === 'all_envelopes'));

    await post(`${server.url}/permissions/revoke`, h, { partner_id: partner.org_id, envelope_id: e1.id });
    const one = await post(`${server.url}/permissions/restore`, h, { partner_id: partner.org_id, envelope_id: e1.id });
    assert.equal(one.json.revoked, false);
    assert.equal(one.json.access_revoked, true, 'still refused: all envelopes are revoked');
    assertDenied(await open(partner, e1.env), 'envelope restored but partner-wide revocation stands');

    const all = await post(`${server.url}/permissions/restore`, h, { partner_id: partner.org_id });
    assert.equal(all.json.changed, true);
    assert.equal((await open(partner, e1.env)).status, 200);
    assert.equal((await open(partner, e2.env)).status, 200);
  });

  test('only the owner organisation can revoke its envelopes; bad requests are 4xx', async () => {
    const e1 = await seal([grant(partner)]);
    // The stranger "revokes" the partner on the owner's envelope: it sealed no such envelope, so 404 (not a 200 that changes nothing).
    const s = await revoke(stranger, { partner_id: partner.org_id, envelope_id: e1.id });
    assert.equal(s.status, 404);
    assert.equal(s.json.body.error.code, 'ENVELOPE_NOT_FOUND');
    assert.equal((await open(partner, e1.env)).status, 200, "the owner's grant is untouched");

    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [{ partner_id: owner.org_id }, 400, 'VALIDATION_ERROR', /own envelopes/],
      [{ partner_id: 'org_doesnotexist000000' }, 400, 'VALIDATION_ERROR', /unknown partner/],
      [{ partner_id: partner.org_id, envelope_id: 'XYZ' }, 400, 'VALIDATION_ERROR', /envelope_id/],
      [{ envelope_id: e1.id }, 400, 'VALIDATION_ERROR', /partner_id/],
      [{ partner_id: partner.org_id, extra: 1 }, 400, 'VALIDATION_ERROR', /extra/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await revoke(owner, body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.equal(res.json.body.error.code, code);
      assert.match(res.json.body.error.message, message);
    }
    const unauth = await post(
      `${server.url}/v1/permissions/revoke`,
      { ...managedHeaders(owner), password: 'not-the-password-2' },
      { partner_id: partner.org_id },
    );
    registerSecret('not-the-password-2');
    assert.equal(unauth.status, 401);
    const badCursor = await get(`${server.url}/v1/permissions?cursor=nope`, managedHeaders(owner));
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.json.body.error.code, 'INVALID_CURSOR');
  });

  test('the CLI revokes and restores, and the running server applies it to the very next open (no caching)', async () => {
    const e1 = await seal([grant(partner)]);
    const env = { ...process.env, ...storeEnv(server.dataDir) };
    const revoked = await run('node', [CLI, 'permissions', 'revoke', '--org', owner.org_id, '--partner', partner.org_id, '--envelope', e1.id, '--json'], {
      env,
    });
    assert.equal(JSON.parse(revoked.stdout).revoked, true);
    assertDenied(await open(partner, e1.env), 'revoked by the CLI');
    const listed = await run('node', [CLI, 'permissions', 'list', '--org', owner.org_id, '--envelope', e1.id, '--json'], { env });
    assert.equal(JSON.parse(listed.stdout).revocations[0].revoked_by, 'cli');
    await run('node', [CLI, 'permissions', 'restore', '--org', owner.org_id, '--partner', partner.org_id, '--envelope', e1.id], { env });
    assert.equal((await open(partner, e1.env)).status, 200);
  });
});

describe('the permission list is bound into the envelope', () => {
  /** The envelope with `from` replaced by `to` (same length) inside its header bytes. */
  function editHeader(env: string, from: string, to: string): string {
    assert.equal(from.length, to.length);
    const bytes = Buffer.from(env, 'base64url');
    const at = bytes.indexOf(Buffer.from(from));
    assert.ok(at > 0 && at < 400, 'found in the header');
    Buffer.from(to).copy(bytes, at);
    return bytes.toString('base64url');
  }

  test('a stranger writing itself into the list gets ENVELOPE_AUTH_FAILED and no plaintext', async () => {
    const { env } = await seal([grant(partner)]);
    const forged = editHeader(env, `"partner_id":"${partner.org_id}"`, `"partner_id":"${stranger.org_id}"`);
    for (const op of ['decrypt', 'decrypt-verify'] as const) {
      const res = await open(stranger, forged, op);
      assert.ok(res.status === 400 || res.status === 403, String(res.status));
      assert.ok(['ENVELOPE_AUTH_FAILED', 'ENVELOPE_ACCESS_DENIED'].includes(res.json.body.error.code), res.json.body.error.code);
      assert.ok(!JSON.stringify(res.json).includes(SECRET_TEXT));
    }
    assert.equal((await open(stranger, forged)).json.body.error.code, 'ENVELOPE_AUTH_FAILED');
  });

  test('a partner extending its own expiry gets ENVELOPE_AUTH_FAILED', async () => {
    const expiresAt = new Date(now() + 60_000).toISOString();
    const later = `${String(Number(expiresAt.slice(0, 4)) + 5)}${expiresAt.slice(4)}`;
    const { env } = await seal([grant(partner, { expires_at: expiresAt })]);
    const forged = editHeader(env, expiresAt, later);
    const res = await open(partner, forged);
    assert.equal(res.status, 400);
    assert.equal(res.json.body.error.code, 'ENVELOPE_AUTH_FAILED');
  });
});

describe('fail closed', () => {
  test(
    "revocation state unreadable: partner opens are 503, the owner's own decrypts keep working, strangers still 403",
    { skip: sqliteOnly('renames the table in pqseal.db') },
    async () => {
      const { env } = await seal([grant(partner)]);
      const db = new BetterSqlite3(join(server.dataDir, 'pqseal.db'));
      db.pragma('busy_timeout = 5000');
      try {
        db.exec('alter table revocations rename to revocations_unreadable');
        const partnerRes = await open(partner, env);
        assert.equal(partnerRes.status, 503, JSON.stringify(partnerRes.json));
        assert.equal(partnerRes.json.body.error.code, 'REVOCATION_STATE_UNAVAILABLE');
        assert.ok(Number(partnerRes.headers.get('retry-after')) > 0);
        assert.ok(!JSON.stringify(partnerRes.json).includes(SECRET_TEXT));
        const verifyRes = await open(partner, env, 'decrypt-verify');
        assert.equal(verifyRes.status, 503);

        const ownerRes = await open(owner, env, 'decrypt-verify');
        assert.equal(ownerRes.status, 200, 'the owner path never reads revocation state');
        assert.equal(ownerRes.json.body.decrypted_data, SECRET_TEXT);
        assertDenied(await open(stranger, env), 'stranger during the outage');
      } finally {
        db.exec('alter table revocations_unreadable rename to revocations');
        db.close();
      }
      assert.equal((await open(partner, env)).status, 200, 'back once the state is readable');
    },
  );
});

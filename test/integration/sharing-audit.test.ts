import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/record.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 10, items 6 and 7: an owner's audit chain records every partner open of its envelopes
 * (who, when, outcome), and a revocation by an organisation that did not seal the envelope is
 * refused instead of answering `revoked: true` and changing nothing.
 */

let server: TestServer;
let owner: NewOrganisation;
let partner: NewOrganisation;
let stranger: NewOrganisation;
const SECRET = 'owner-visible partner open: ledger 99';

before(async () => {
  server = await startTestServer();
  owner = await server.createOrg('Owner Sees Opens Ltd');
  partner = await server.createOrg('Opening Partner Ltd');
  stranger = await server.createOrg('Curious Stranger Ltd');
  registerSecret(SECRET);
});
after(() => server.stop());

async function seal(permissions: unknown[]): Promise<{ env: string; id: string }> {
  const res = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(owner), { data: SECRET, permissions });
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { env: res.json.body.encrypted_data, id: res.json.body.envelope_id };
}

async function records(org: NewOrganisation, query: string): Promise<AuditRecord[]> {
  const res = await fetch(`${server.url}/v1/audit?limit=500&${query}`, { headers: managedHeaders(org) });
  const json = (await res.json()) as { statusCode: number; body: { records: AuditRecord[] } };
  assert.equal(res.status, 200, JSON.stringify(json));
  return json.body.records;
}

describe('owners see their envelopes being opened (item 6)', () => {
  test("a partner's open, and refused attempts, are recorded in the owner's chain: who, when, outcome", async () => {
    const { env, id } = await seal([{ partner_id: partner.org_id, permissions: ['read'] }]);
    const opened = await post(`${server.url}/v1/decrypt-verify`, { ...managedHeaders(partner), 'x-request-id': 'owner-sees-open' }, { encrypted_data: env });
    assert.equal(opened.status, 200);
    const refused = await post(`${server.url}/v1/decrypt`, { ...managedHeaders(stranger), 'x-request-id': 'owner-sees-refusal' }, { encrypted_data: env });
    assert.equal(refused.status, 403);
    const revoked = await post(`${server.url}/v1/permissions/revoke`, managedHeaders(owner), { partner_id: partner.org_id, envelope_id: id });
    assert.equal(revoked.status, 200);
    const afterRevoke = await post(`${server.url}/v1/decrypt`, { ...managedHeaders(partner), 'x-request-id': 'owner-sees-revoked' }, { encrypted_data: env });
    assert.equal(afterRevoke.status, 403);

    const ownerLog = await records(owner, `envelope_id=${id}`);
    const byRequest = new Map(ownerLog.filter((r) => r.org_id !== owner.org_id).map((r) => [r.request_id, r]));
    const open = byRequest.get('owner-sees-open');
    assert.ok(open, "the partner's open is in the owner's log");
    assert.equal(open.chain_id, owner.org_id);
    assert.equal(open.org_id, partner.org_id, 'who: the partner organisation');
    assert.match(open.user_id ?? '', /^usr_/, 'who: the partner user');
    assert.equal(open.operation, 'decrypt-verify');
    assert.equal(open.envelope_owner_id, owner.org_id);
    assert.equal(open.outcome, 'success');
    assert.equal(open.http_status, 200);
    assert.ok(Math.abs(Date.parse(open.time) - Date.now()) < 60_000, 'when');
    assert.deepEqual([open.credential_id, open.client_address], [null, null], "not the partner's credential id or address");

    const strangerAttempt = byRequest.get('owner-sees-refusal');
    assert.equal(strangerAttempt?.org_id, stranger.org_id);
    assert.deepEqual([strangerAttempt?.outcome, strangerAttempt?.error_code, strangerAttempt?.http_status], ['failure', 'ENVELOPE_ACCESS_DENIED', 403]);
    const revokedAttempt = byRequest.get('owner-sees-revoked');
    assert.deepEqual([revokedAttempt?.org_id, revokedAttempt?.outcome, revokedAttempt?.error_code], [partner.org_id, 'failure', 'ENVELOPE_ACCESS_DENIED']);

    // The partner's own chain still has its record, and sees nothing of the owner's.
    const partnerLog = await records(partner, `envelope_id=${id}`);
    assert.ok(partnerLog.some((r) => r.request_id === 'owner-sees-open' && r.chain_id === partner.org_id && r.outcome === 'success'));
    assert.ok(partnerLog.every((r) => r.chain_id === partner.org_id));
    assert.ok(!JSON.stringify(ownerLog).includes(SECRET));
  });

  test("the owner's own opens are recorded once, in its own chain", async () => {
    const { env, id } = await seal([]);
    const res = await post(`${server.url}/v1/decrypt`, managedHeaders(owner), { encrypted_data: env });
    assert.equal(res.status, 200);
    const opens = (await records(owner, `envelope_id=${id}&operation=decrypt`)).filter((r) => r.operation === 'decrypt');
    assert.equal(opens.length, 1);
  });
});

describe('a revoke that does nothing is refused (item 7)', () => {
  test("a partner cannot 'revoke' or 'restore' on an envelope it did not seal: 404, and the owner's state is unchanged", async () => {
    const { env, id } = await seal([{ partner_id: partner.org_id, permissions: ['read'] }]);
    for (const action of ['revoke', 'restore'] as const) {
      for (const target of [owner, stranger]) {
        const res = await post(`${server.url}/v1/permissions/${action}`, managedHeaders(partner), { partner_id: target.org_id, envelope_id: id });
        assert.equal(res.status, 404, `${action} ${JSON.stringify(res.json)}`);
        assert.deepEqual(res.json.body.error.code, 'ENVELOPE_NOT_FOUND');
      }
    }
    const direct = await post(`${server.url}/permissions/revoke`, { authorization: 'Bearer x' }, { partner_id: owner.org_id, envelope_id: id });
    assert.ok(direct.status >= 400);
    // Nothing was recorded as a revocation of the partner's; the refusals are audited as failures.
    const list = await fetch(`${server.url}/v1/permissions?envelope_id=${id}`, { headers: managedHeaders(partner) });
    assert.deepEqual(((await list.json()) as { body: { revocations: unknown[] } }).body.revocations, []);
    const failures = (await records(partner, `operation=permissions.revoke&outcome=failure`)).filter((r) => r.envelope_id === id);
    assert.ok(failures.length >= 2 && failures.every((r) => r.error_code === 'ENVELOPE_NOT_FOUND' && r.http_status === 404));
    // The partner still opens it: its refused revoke changed nothing, and neither did anything else.
    assert.equal((await post(`${server.url}/v1/decrypt`, managedHeaders(partner), { encrypted_data: env })).status, 200);
  });

  test('an envelope id the caller never sealed is 404 for the owner too; its own envelopes and partner-wide revocations still work', async () => {
    const unknown = 'ab'.repeat(16);
    const res = await post(`${server.url}/v1/permissions/revoke`, managedHeaders(owner), { partner_id: partner.org_id, envelope_id: unknown });
    assert.equal(res.status, 404);
    assert.equal(res.json.body.error.code, 'ENVELOPE_NOT_FOUND');

    const { env, id } = await seal([{ partner_id: partner.org_id, permissions: ['read'] }]);
    const own = await post(`${server.url}/v1/permissions/revoke`, managedHeaders(owner), { partner_id: partner.org_id, envelope_id: id });
    assert.equal(own.status, 200);
    assert.equal(own.json.body.revoked, true);
    assert.equal((await post(`${server.url}/v1/decrypt`, managedHeaders(partner), { encrypted_data: env })).status, 403);
    const restored = await post(`${server.url}/v1/permissions/restore`, managedHeaders(owner), { partner_id: partner.org_id, envelope_id: id });
    assert.equal(restored.status, 200);

    const wide = await post(`${server.url}/v1/permissions/revoke`, managedHeaders(partner), { partner_id: stranger.org_id });
    assert.equal(wide.status, 200, "a partner-wide revocation concerns only the caller's own envelopes and needs no id");
    assert.equal((await post(`${server.url}/v1/permissions/restore`, managedHeaders(partner), { partner_id: stranger.org_id })).status, 200);
  });
});

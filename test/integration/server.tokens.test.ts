import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { disableUser, enableUser, findByUsername, setPassword } from '../../src/identity/users.js';
import { login, partnerHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Bearer tokens over real HTTP with the services' injectable clock: expiry is enforced even for a
 * token the server has seen (and cached) before, and a password change, disable or enable stops
 * every token issued before it, exactly, even within the same second.
 */

let clock = Date.now();
let server: TestServer;

before(async () => {
  server = await startTestServer({ tokenTtlSeconds: 60 }, {}, { now: () => clock });
});
after(() => server.stop());

async function directEncrypt(token: string, org: NewOrganisation) {
  return post(`${server.url}/encrypt`, { authorization: `Bearer ${token}`, ...partnerHeaders(org) }, { data: 'token test' });
}

async function freshLogin(org: NewOrganisation): Promise<string> {
  const tokens = await login(server.url, org);
  registerSecret(tokens.IdToken, tokens.AccessToken, tokens.RefreshToken);
  return tokens.IdToken;
}

describe('bearer token expiry', () => {
  test('a token used before is refused once exp plus the 5 s clock tolerance has passed', async () => {
    const org = await server.createOrg('Expiry Org');
    clock = Date.now();
    const token = await freshLogin(org);
    const exp = decodeJwt(token).exp as number;
    assert.equal((await directEncrypt(token, org)).status, 200, 'used (and cached) while fresh');

    clock = exp * 1000 + 4_000;
    assert.equal((await directEncrypt(token, org)).status, 200, 'within the documented tolerance');

    clock = exp * 1000 + 5_001;
    const late = await directEncrypt(token, org);
    assert.equal(late.status, 401);
    assert.equal(late.json.code, 'TOKEN_EXPIRED');
  });

  test('a managed login whose cached token has expired logs in again instead of failing', async () => {
    const org = await server.createOrg('Managed Expiry Org');
    clock = Date.now();
    const headers = { username: org.username, password: org.password, ...partnerHeaders(org) };
    assert.equal((await post(`${server.url}/v1/encrypt`, headers, { data: 'x' })).status, 200);
    clock += 70_000;
    assert.equal((await post(`${server.url}/v1/encrypt`, headers, { data: 'x' })).status, 200);
  });
});

describe('token generation', () => {
  test('a password change in the same second as the login stops the earlier token', async () => {
    const org = await server.createOrg('Same Second Org');
    clock = Math.floor(clock / 1000) * 1000 + 1000 + 100;
    const before = await freshLogin(org);
    assert.equal((await directEncrypt(before, org)).status, 200);

    clock += 500; // same second as the login
    const user = await findByUsername(server.services.store, org.username);
    assert.ok(user);
    const newPassword = 'a new password for the same second';
    registerSecret(newPassword);
    await setPassword(server.services.store, user.id, newPassword, clock);
    const refused = await directEncrypt(before, org);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.code, 'TOKEN_INVALID');

    const after = await freshLogin({ ...org, password: newPassword });
    assert.equal(decodeJwt(after).iat, decodeJwt(before).iat, 'both tokens carry the same iat');
    assert.equal((await directEncrypt(after, { ...org, password: newPassword })).status, 200);
  });

  test('disabling then re-enabling a user does not revive the tokens issued before', async () => {
    const org = await server.createOrg('Disable Enable Org');
    const before = await freshLogin(org);
    assert.equal((await directEncrypt(before, org)).status, 200);
    const user = await findByUsername(server.services.store, org.username);
    assert.ok(user);

    await disableUser(server.services.store, user.id);
    assert.equal((await directEncrypt(before, org)).status, 401);
    await enableUser(server.services.store, user.id);
    const revived = await directEncrypt(before, org);
    assert.equal(revived.status, 401, 'the old token stays dead after enable');
    assert.equal(revived.json.code, 'TOKEN_INVALID');

    assert.equal((await directEncrypt(await freshLogin(org), org)).status, 200, 'a new login works');
  });
});

describe('OpenID discovery', () => {
  function getWithHost(url: string, host: string): Promise<{ status: number; json: { issuer: string; jwks_uri: string } }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { host } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('jwks_uri comes from the configured issuer, never from a hostile Host header', async () => {
    const configured = await startTestServer({ issuer: 'https://idp.example.test' });
    try {
      const doc = await getWithHost(`${configured.url}/.well-known/openid-configuration`, 'evil.example:666');
      assert.equal(doc.status, 200);
      assert.equal(doc.json.issuer, 'https://idp.example.test');
      assert.equal(doc.json.jwks_uri, 'https://idp.example.test/.well-known/jwks.json');
    } finally {
      await configured.stop();
    }
  });

  test('without PQSEAL_ISSUER the default issuer (the iss of issued tokens) is used', async () => {
    const org = await server.createOrg('Discovery Org');
    const iss = decodeJwt(await freshLogin(org)).iss as string;
    const doc = await getWithHost(`${server.url}/.well-known/openid-configuration`, 'evil.example');
    assert.equal(doc.json.issuer, iss);
    assert.equal(doc.json.jwks_uri, `${iss}/.well-known/jwks.json`);
    assert.ok(!doc.json.jwks_uri.includes('evil.example'));
  });
});

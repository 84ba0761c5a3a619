import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { TOKEN_GENERATION_CLAIM } from '../../src/identity/tokens.js';
import { login, partnerHeaders, post, registerSecret, startTestServer, storeEnv, type TestServer } from '../helpers/server.js';

/**
 * User changes made by another process — `pqseal user …` beside a running server — reach that
 * server's Direct API (bearer tokens): at once with PQSEAL_LOGIN_CACHE_TTL=0, and a token newer than
 * what the server cached (issued after a password change or an enable) is never refused for it.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

async function pqsealUser(server: TestServer, args: string[]): Promise<void> {
  await run(process.execPath, [CLI, 'user', ...args], { env: { ...process.env, ...storeEnv(server.dataDir) } });
}

async function directEncrypt(server: TestServer, token: string, org: NewOrganisation) {
  return post(`${server.url}/encrypt`, { authorization: `Bearer ${token}`, ...partnerHeaders(org) }, { data: 'cli user change' });
}

async function freshToken(server: TestServer, org: NewOrganisation): Promise<string> {
  const tokens = await login(server.url, org);
  registerSecret(tokens.IdToken, tokens.AccessToken, tokens.RefreshToken);
  return tokens.IdToken;
}

describe('PQSEAL_LOGIN_CACHE_TTL=0: every request sees the store', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({}, { PQSEAL_LOGIN_CACHE_TTL: '0' });
  });
  after(() => server.stop());

  test('a user disabled with the CLI is refused on the Direct API at once', async () => {
    const org = await server.createOrg('Cli Disable Org');
    const token = await freshToken(server, org);
    assert.equal((await directEncrypt(server, token, org)).status, 200, 'accepted (and seen) before the change');

    await pqsealUser(server, ['disable', '--username', org.username]);
    const refused = await directEncrypt(server, token, org);
    assert.equal(refused.status, 401, 'refused at once');
    assert.equal(refused.json.code, 'TOKEN_INVALID');
  });

  test('after a password change with the CLI the new token is accepted at once and the old one refused', async () => {
    const org = await server.createOrg('Cli Password Org');
    const before = await freshToken(server, org);
    assert.equal((await directEncrypt(server, before, org)).status, 200);

    const password = 'a new password set from the CLI';
    registerSecret(password);
    await pqsealUser(server, ['set-password', '--username', org.username, '--password', password]);
    const after = await freshToken(server, { ...org, password });
    assert.equal((await directEncrypt(server, after, org)).status, 200, 'the new token works at once');
    const old = await directEncrypt(server, before, org);
    assert.equal(old.status, 401);
    assert.equal(old.json.code, 'TOKEN_INVALID');
  });
});

describe('with the login cache on (default TTL): a token newer than the cached user re-reads it', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('after set-password with the CLI the new token is accepted at once', async () => {
    const org = await server.createOrg('Cached Password Org');
    const before = await freshToken(server, org);
    assert.equal((await directEncrypt(server, before, org)).status, 200, 'caches the user');

    const password = 'another password set from the CLI';
    registerSecret(password);
    await pqsealUser(server, ['set-password', '--username', org.username, '--password', password]);
    const after = await freshToken(server, { ...org, password });
    assert.ok(
      (decodeJwt(after)[TOKEN_GENERATION_CLAIM] as number) > (decodeJwt(before)[TOKEN_GENERATION_CLAIM] as number),
      'a newer token generation than the cached one',
    );
    const accepted = await directEncrypt(server, after, org);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
  });

  test("after disable then enable with the CLI a new login's token is accepted at once", async () => {
    const org = await server.createOrg('Cached Enable Org');
    assert.equal((await directEncrypt(server, await freshToken(server, org), org)).status, 200, 'caches the user');

    await pqsealUser(server, ['disable', '--username', org.username]);
    await pqsealUser(server, ['enable', '--username', org.username]);
    const accepted = await directEncrypt(server, await freshToken(server, org), org);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
  });
});

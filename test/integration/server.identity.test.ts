import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CognitoIdentityProviderClient, InitiateAuthCommand, NotAuthorizedException } from '@aws-sdk/client-cognito-identity-provider';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, partnerHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let org: NewOrganisation;

before(async () => {
  server = await startTestServer({ rateLimitPerSecond: 5, rateLimitBurst: 5 });
  org = await server.createOrg('Identity Test Org');
});
after(() => server.stop());

function client(): CognitoIdentityProviderClient {
  return new CognitoIdentityProviderClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    maxAttempts: 1,
  });
}

describe('the real AWS SDK identity client against the local identity pool', () => {
  test('USER_PASSWORD_AUTH, then the IdToken works on the Direct API, then REFRESH_TOKEN_AUTH', async () => {
    const cognito = client();
    const out = await cognito.send(
      new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
    );
    const result = out.AuthenticationResult;
    assert.ok(result?.IdToken && result.AccessToken && result.RefreshToken);
    assert.equal(result.TokenType, 'Bearer');
    assert.ok((result.ExpiresIn ?? 0) > 0);
    registerSecret(result.IdToken, result.AccessToken, result.RefreshToken);

    const direct = await post(`${server.url}/sign-encrypt`, { authorization: `Bearer ${result.IdToken}`, ...partnerHeaders(org) }, { data: 'via sdk token' });
    assert.equal(direct.status, 200);

    const refreshed = await cognito.send(
      new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: 'pqseal', AuthParameters: { REFRESH_TOKEN: result.RefreshToken } }),
    );
    assert.ok(refreshed.AuthenticationResult?.IdToken);
    assert.equal(refreshed.AuthenticationResult?.RefreshToken, undefined);
    registerSecret(refreshed.AuthenticationResult.IdToken);
    const again = await post(
      `${server.url}/decrypt-verify`,
      { authorization: `Bearer ${refreshed.AuthenticationResult.IdToken}`, ...partnerHeaders(org) },
      {
        encrypted_data: direct.json.encrypted_data,
      },
    );
    assert.equal(again.json.is_valid_signature, true);
  });

  test('a wrong password is NotAuthorizedException, shaped as the identity provider shapes it', async () => {
    await assert.rejects(
      client().send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: 'pqseal',
          AuthParameters: { USERNAME: org.username, PASSWORD: 'wrong-password-123' },
        }),
      ),
      (e: unknown) => e instanceof NotAuthorizedException && e.$metadata.httpStatusCode === 400,
    );
  });

  test('an unknown client id is refused', async () => {
    await assert.rejects(
      client().send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: 'someone-else',
          AuthParameters: { USERNAME: org.username, PASSWORD: org.password },
        }),
      ),
      (e: unknown) => (e as { name?: string }).name === 'ResourceNotFoundException',
    );
  });

  test('JWKS and OpenID discovery are published', async () => {
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; kty: string }[] };
    assert.ok(jwks.keys.length >= 1 && jwks.keys[0]?.kid);
    const oidc = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; issuer: string };
    assert.match(oidc.jwks_uri, /\/\.well-known\/jwks\.json$/);
  });
});

describe('abuse controls', () => {
  test('a burst of concurrent managed requests with the right password is never throttled', async () => {
    const burst = await server.createOrg('Burst Org');
    const results = await Promise.all(Array.from({ length: 12 }, () => post(`${server.url}/v1/encrypt`, managedHeaders(burst), { data: 'x' })));
    const codes = results.map((r) => (r.status === 200 ? 'OK' : r.json.body.error.code));
    // This server's token bucket holds 5, so some answers are RATE_LIMITED; none may be a login lockout.
    assert.ok(
      codes.every((c) => c === 'OK' || c === 'RATE_LIMITED'),
      codes.join(','),
    );
    assert.ok(codes.filter((c) => c === 'OK').length >= 5, codes.join(','));
  });

  test('the per-user token bucket answers 429 with Retry-After', async () => {
    const h = managedHeaders(org);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const res = await post(`${server.url}/v1/encrypt`, h, { data: 'x' });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        assert.equal(res.json.body.error.code, 'RATE_LIMITED');
      }
    }
    assert.ok(statuses.includes(200) && statuses.includes(429), statuses.join(','));
    assert.ok(Number(retryAfter) >= 1);
  });

  test('repeated failed logins back off (429 LOGIN_THROTTLED) and the right password works after the backoff', async () => {
    const victim = await server.createOrg('Lockout Org');
    const bad = { ...managedHeaders(victim), password: 'definitely-wrong-pw' };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await post(`${server.url}/v1/encrypt`, bad, { data: 'x' })).status);
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
    assert.equal(statuses.at(-1), 429);
    const locked = await post(`${server.url}/v1/encrypt`, managedHeaders(victim), { data: 'x' });
    assert.equal(locked.status, 429, 'even the right password waits out the lock');
    assert.equal(locked.json.body.error.code, 'LOGIN_THROTTLED');
    const wait = Number(locked.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 900);
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    const ok = await post(`${server.url}/v1/encrypt`, managedHeaders(victim), { data: 'x' });
    assert.equal(ok.status, 200, 'not locked out forever');
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import type { NewOrganisation } from '../../src/core/organisations.js';
import {
  AuthError,
  bearerToken,
  Client,
  CrittoraClient,
  CrittoraError,
  DecryptError,
  inspectEnvelope,
  login,
  managed,
  PqsealError,
  RateLimitError,
  RequestError,
  ValidationError,
  verifyOffline,
  type ClientOptions,
  type RetryInfo,
} from '@pqseal/sdk';
import { login as rawLogin, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The SDK against the real server (started in process on an ephemeral port). Where a test needs an
 * answer the server never gives (a gateway's 502, the older string-body wrapper, silence), a tiny
 * real HTTP server sits in front of it; fetch itself is never replaced.
 */

const ROOT = new URL('../../../', import.meta.url).pathname;
const MESSAGE = 'via sdk: claim 4471 approved, pay 1,250.00 EUR';
const UNICODE = '🔐 émoji · עברית مرحبا · NUL\u0000 · 中文 — sdk';

let server: TestServer;
let rockville: NewOrganisation;
let partner: NewOrganisation;

before(async () => {
  server = await startTestServer({ bodyLimitBytes: 256 * 1024 });
  rockville = await server.createOrg('Rockville Insurance Group');
  partner = await server.createOrg('Partner Health Ltd');
  registerSecret(MESSAGE, UNICODE);
});
after(() => server.stop());

const credentialsOf = (org: NewOrganisation) => ({ apiKey: org.api_key, accessKey: org.access_key, secretKey: org.secret_key });
const userOf = (org: NewOrganisation) => ({ username: org.username, password: org.password });

function client(org: NewOrganisation, mode: 'login' | 'managed', extra: Partial<ClientOptions> = {}, baseUrl = server.url): Client {
  return new Client({ baseUrl, credentials: credentialsOf(org), auth: mode === 'login' ? login(userOf(org)) : managed(userOf(org)), ...extra });
}

async function rejects<T extends PqsealError>(promise: Promise<unknown>, type: new (...args: never[]) => T, code?: string): Promise<T> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    assert.ok(e instanceof PqsealError && e instanceof CrittoraError);
    if (code !== undefined) assert.equal((e as PqsealError).code, code, (e as Error).message);
    return e;
  }
  throw new assert.AssertionError({ message: `expected ${type.name}, but the call succeeded` });
}

// ------------------------------------------------------------------------------------------------
// Tiny real HTTP servers for answers the real server does not give.

interface Shim {
  readonly url: string;
  readonly hits: string[];
  close(): Promise<void>;
}

async function startShim(handler: (req: IncomingMessage, res: ServerResponse, body: string, hits: string[]) => void | Promise<void>): Promise<Shim> {
  const hits: string[] = [];
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      Promise.resolve(handler(req, res, Buffer.concat(chunks).toString('utf8'), hits)).catch((e: unknown) => {
        res.statusCode = 599;
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Forwards to the real server; returns its status, headers and text. */
async function forward(req: IncomingMessage, body: string): Promise<{ status: number; headers: Headers; text: string }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
  const res = await fetch(`${server.url}${req.url}`, { method: req.method, headers, ...(req.method === 'POST' ? { body } : {}) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function reply(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(json));
}

// ------------------------------------------------------------------------------------------------

describe('the four operations, both auth modes', () => {
  for (const mode of ['login', 'managed'] as const) {
    test(`${mode}: sign-encrypt → decrypt-verify, encrypt → decrypt, camelCase results`, async () => {
      const c = client(rockville, mode);
      assert.equal(c.mode, mode === 'login' ? 'direct' : 'managed');
      for (const data of [MESSAGE, UNICODE, '']) {
        const sealed = await c.signEncrypt({ data });
        assert.match(sealed.encryptedData, /^[A-Za-z0-9_-]+$/);
        assert.match(sealed.envelopeId, /^[0-9a-f]{32}$/);
        assert.ok(sealed.requestId);
        const opened = await c.decryptVerify({ encryptedData: sealed.encryptedData });
        assert.equal(opened.decryptedData, data);
        assert.equal(opened.isValidSignature, true);
        assert.equal(opened.signedBy, 'Rockville Insurance Group');
        assert.match(opened.signedTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
        assert.equal(opened.repudiator, undefined);
        assert.equal(opened.signerOrgId, rockville.org_id);
        assert.equal(opened.signerKeyId, `${rockville.org_id}.sig.v1`);
        assert.equal(opened.envelopeId, sealed.envelopeId);
        assert.ok(opened.signature.length > 4000);
        const decSigned = await c.decrypt({ encryptedData: sealed.encryptedData });
        assert.equal(decSigned.decryptedData, data, 'decrypt opens signed envelopes too');
        assert.equal(decSigned.signed, true, 'and says the envelope carries a signature');
        assert.equal(opened.signed, true);

        const enc = await c.encrypt({ data });
        const dec = await c.decrypt({ encryptedData: enc.encryptedData });
        assert.deepEqual(
          { ...dec, requestId: undefined },
          { decryptedData: data, envelopeId: enc.envelopeId, dataEncoding: undefined, signed: false, requestId: undefined },
        );
      }
    });
  }

  test('bearerToken(token) and a plain string token call the Direct API', async () => {
    const { IdToken } = await rawLogin(server.url, rockville);
    for (const auth of [bearerToken(IdToken), IdToken, bearerToken(async () => IdToken)]) {
      const c = new Client({ baseUrl: `${server.url}/`, credentials: credentialsOf(rockville), auth });
      const { encryptedData } = await c.signEncrypt({ data: MESSAGE });
      assert.equal((await c.decryptVerify({ encryptedData })).isValidSignature, true);
    }
  });

  test('CrittoraClient is the same class; withAuth switches the path and keeps the rest', async () => {
    assert.equal(CrittoraClient, Client);
    const direct = client(rockville, 'login');
    const viaManaged = direct.withAuth(managed(userOf(rockville)));
    assert.equal(viaManaged.mode, 'managed');
    const { encryptedData } = await viaManaged.signEncrypt({ data: MESSAGE });
    assert.equal((await direct.decryptVerify({ encryptedData })).decryptedData, MESSAGE, 'an envelope from one path opens on the other');
  });

  test('login() keeps the tokens, shares one sign-in between concurrent calls and renews with REFRESH_TOKEN_AUTH before expiry', async () => {
    const flows: string[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      if (init?.headers && (init.headers as Record<string, string>)['x-amz-target']) flows.push(JSON.parse(init.body as string).AuthFlow as string);
      return fetch(input, init);
    };
    let clock = Date.now();
    const auth = login({ ...userOf(rockville), now: () => clock });
    const c = new Client({ baseUrl: server.url, credentials: credentialsOf(rockville), auth, fetch: recordingFetch });
    await Promise.all([c.encrypt({ data: 'a' }), c.encrypt({ data: 'b' }), c.encrypt({ data: 'c' })]);
    assert.deepEqual(flows, ['USER_PASSWORD_AUTH']);
    const first = auth.tokens;
    assert.ok(first?.idToken && first.accessToken && first.refreshToken);
    registerSecret(first.idToken, first.accessToken, first.refreshToken);
    assert.ok(first.expiresAt > clock);

    clock = first.expiresAt - 30_000; // inside the 60 s renewal margin
    await c.encrypt({ data: 'd' });
    assert.deepEqual(flows, ['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
    const second = auth.tokens;
    assert.ok(second);
    registerSecret(second.idToken, second.accessToken);
    assert.notEqual(second.idToken, first.idToken);
    assert.equal(second.refreshToken, first.refreshToken, 'the refresh token is kept');
  });

  test('a token the server calls expired is renewed once and the call repeated', async () => {
    let serverAhead = 0;
    const s = await startTestServer({ tokenTtlSeconds: 300, loginCacheTtlSeconds: 0 }, {}, { now: () => Date.now() + serverAhead });
    try {
      const org = await s.createOrg('Clock Org');
      const flows: string[] = [];
      const recordingFetch: typeof fetch = async (input, init) => {
        if (init?.headers && (init.headers as Record<string, string>)['x-amz-target']) flows.push(JSON.parse(init.body as string).AuthFlow as string);
        return fetch(input, init);
      };
      const sdkClock = Date.now();
      const c = new Client({ baseUrl: s.url, credentials: credentialsOf(org), auth: login({ ...userOf(org), now: () => sdkClock }), fetch: recordingFetch });
      await c.encrypt({ data: 'x' });
      serverAhead = 10 * 60_000; // the server's clock moves on; the SDK still believes its token fresh
      const { decryptedData } = await c.decrypt({ encryptedData: (await c.encrypt({ data: 'after expiry' })).encryptedData });
      assert.equal(decryptedData, 'after expiry');
      assert.deepEqual(flows, ['USER_PASSWORD_AUTH', 'REFRESH_TOKEN_AUTH']);
    } finally {
      await s.stop();
    }
  });
});

describe('typed errors', () => {
  test('wrong password (managed) → AuthError 401 NOT_AUTHORIZED with the request id', async () => {
    const c = new Client({
      baseUrl: server.url,
      credentials: credentialsOf(rockville),
      auth: managed({ username: rockville.username, password: 'wrong-password-123' }),
    });
    const e = await rejects(c.signEncrypt({ data: MESSAGE }), AuthError, 'NOT_AUTHORIZED');
    assert.equal(e.status, 401);
    assert.equal(e.message, 'Username and/or Password Incorrect');
    assert.match(e.requestId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(
      server.logs.some((l) => l.includes(e.requestId as string)),
      'the request id is the one in the server log',
    );
  });

  test('wrong password (login) → AuthError NOT_AUTHORIZED from InitiateAuth', async () => {
    const c = new Client({
      baseUrl: server.url,
      credentials: credentialsOf(rockville),
      auth: login({ username: rockville.username, password: 'wrong-password-456' }),
    });
    const e = await rejects(c.encrypt({ data: 'x' }), AuthError, 'NOT_AUTHORIZED');
    assert.equal(e.status, 400, 'the identity provider answers 400 NotAuthorizedException');
    assert.ok(e.requestId);
  });

  test('wrong partner credentials → AuthError 403; a token that is not one → AuthError 401 TOKEN_INVALID', async () => {
    const c = new Client({
      baseUrl: server.url,
      credentials: { ...credentialsOf(rockville), secretKey: 'not-the-secret-key' },
      auth: managed(userOf(rockville)),
    });
    const e = await rejects(c.encrypt({ data: 'x' }), AuthError);
    assert.equal(e.status, 403);
    const bad = new Client({ baseUrl: server.url, credentials: credentialsOf(rockville), auth: bearerToken('not.a.token') });
    assert.equal((await rejects(bad.encrypt({ data: 'x' }), AuthError, 'TOKEN_INVALID')).status, 401);
  });

  test('tampered, truncated and unsigned envelopes → DecryptError with the server code', async () => {
    const c = client(rockville, 'managed');
    const { encryptedData } = await c.signEncrypt({ data: 'tamper me' });
    const mid = Math.floor(encryptedData.length / 2);
    const flipped = encryptedData.slice(0, mid) + (encryptedData[mid] === 'A' ? 'B' : 'A') + encryptedData.slice(mid + 1);
    const e = await rejects(c.decryptVerify({ encryptedData: flipped }), DecryptError, 'ENVELOPE_AUTH_FAILED');
    assert.equal(e.status, 400);
    assert.ok(e.requestId);
    await rejects(c.decrypt({ encryptedData: encryptedData.slice(0, 200) }), DecryptError, 'ENVELOPE_MALFORMED');
    const { encryptedData: unsigned } = await c.encrypt({ data: 'x' });
    assert.equal((await rejects(c.decryptVerify({ encryptedData: unsigned }), DecryptError, 'ENVELOPE_NOT_SIGNED')).status, 422);
  });

  test('invalid requests → ValidationError (400 unknown partner, 413 too large); the SDK refuses bad input before sending', async () => {
    const c = client(rockville, 'login');
    const e = await rejects(c.encrypt({ data: 'x', permissions: [{ partnerId: 'org_doesnotexist' }] }), ValidationError, 'VALIDATION_ERROR');
    assert.equal(e.status, 400);
    assert.match(e.message, /unknown partner/);
    assert.equal((await rejects(c.encrypt({ data: 'x'.repeat(300 * 1024) }), ValidationError, 'BODY_TOO_LARGE')).status, 413);
    await rejects(c.encrypt({ data: 42 as unknown as string }), ValidationError, 'VALIDATION_ERROR');
    await rejects(c.decrypt({ encryptedData: '' }), ValidationError);
    await rejects(new Client({ baseUrl: server.url, auth: managed(userOf(rockville)) }).encrypt({ data: 'x' }), ValidationError, 'CONFIG_ERROR');
    assert.throws(() => new Client({ baseUrl: 'ftp://example' }), ValidationError);
  });

  test('the same errors arrive whatever the response shape: plain, {statusCode, body} and the string-body wrapper', async () => {
    // The older wrapper: HTTP 200 always, body a JSON string, the real status inside.
    const shim = await startShim(async (req, res, body) => {
      const real = await forward(req, body);
      if (req.headers['x-amz-target']) {
        res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? '' });
        res.end(real.text);
        return;
      }
      const json = JSON.parse(real.text) as { statusCode?: number; body?: unknown };
      const inner = json.statusCode !== undefined ? json.body : json;
      reply(res, 200, { statusCode: real.status, body: JSON.stringify(inner) }, { 'x-request-id': real.headers.get('x-request-id') ?? '' });
    });
    try {
      for (const mode of ['managed', 'login'] as const) {
        const c = client(rockville, mode, {}, shim.url);
        const { encryptedData } = await c.signEncrypt({ data: MESSAGE });
        const opened = await c.decryptVerify({ encryptedData });
        assert.equal(opened.decryptedData, MESSAGE);
        assert.equal(opened.isValidSignature, true);
        const e = await rejects(
          c.decrypt({ encryptedData: Buffer.from(encryptedData, 'base64url').subarray(0, -3).toString('base64url') }),
          DecryptError,
          'ENVELOPE_AUTH_FAILED',
        );
        assert.equal(e.status, 400);
        assert.ok(e.requestId);
      }
      const bad = new Client({
        baseUrl: shim.url,
        credentials: credentialsOf(rockville),
        auth: managed({ username: rockville.username, password: 'nope-nope-nope' }),
      });
      assert.equal((await rejects(bad.encrypt({ data: 'x' }), AuthError, 'NOT_AUTHORIZED')).status, 401);
    } finally {
      await shim.close();
    }
  });

  test('the hosted service\'s "500 Username and/or Password Incorrect" is an AuthError too', async () => {
    const shim = await startShim((_req, res) =>
      reply(res, 500, { statusCode: 500, body: { message: 'Username and/or Password Incorrect' } }, { 'x-request-id': 'hosted-req-1' }),
    );
    try {
      const e = await rejects(client(rockville, 'managed', {}, shim.url).signEncrypt({ data: 'x' }), AuthError, 'NOT_AUTHORIZED');
      assert.equal(e.requestId, 'hosted-req-1');
    } finally {
      await shim.close();
    }
  });

  test("an answer that is not the API's → RequestError INVALID_RESPONSE", async () => {
    const shim = await startShim((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    try {
      await rejects(client(rockville, 'managed', {}, shim.url).encrypt({ data: 'x' }), RequestError, 'INVALID_RESPONSE');
    } finally {
      await shim.close();
    }
  });
});

describe('rate limits, retries and timeouts', () => {
  let limited: TestServer;
  let org: NewOrganisation;
  before(async () => {
    limited = await startTestServer({ rateLimitPerSecond: 1, rateLimitBurst: 1 });
    org = await limited.createOrg('Limited Org');
  });
  after(() => limited.stop());

  test('429 → RateLimitError with Retry-After; with retries enabled the call waits as told and succeeds', async () => {
    const once = client(org, 'managed', {}, limited.url);
    await once.encrypt({ data: 'first' }).catch(() => undefined);
    const e = await rejects(once.encrypt({ data: 'second' }), RateLimitError, 'RATE_LIMITED');
    assert.equal(e.status, 429);
    assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs >= 1000, `retryAfterMs ${e.retryAfterMs}`);
    assert.equal(e.retryAfter, e.retryAfterMs / 1000);
    assert.ok(e.requestId);

    const retries: RetryInfo[] = [];
    const patient = client(org, 'managed', { retry: { maxAttempts: 4, backoffMs: 10, onRetry: (r) => retries.push(r) } }, limited.url);
    const started = Date.now();
    const { encryptedData } = await patient.encrypt({ data: 'eventually' });
    assert.ok(encryptedData);
    assert.ok(retries.length >= 1, 'it was rate limited at least once');
    assert.ok(
      retries.every((r) => r.error instanceof RateLimitError && r.delayMs >= 1000),
      'each wait honours Retry-After',
    );
    assert.ok(Date.now() - started >= 900);
  });

  test('500/502/504 are retried for decrypt (safe to repeat) but not for encrypt unless retryUnsafe', async () => {
    // A gateway in front of the real server that answers 502 to the first request on each path.
    const seen = new Set<string>();
    const gateway = await startShim(async (req, res, body) => {
      const key = req.url ?? '';
      if (!seen.has(key)) {
        seen.add(key);
        reply(res, 502, { message: 'Bad Gateway' });
        return;
      }
      const real = await forward(req, body);
      res.writeHead(real.status, { 'content-type': 'application/json', 'x-request-id': real.headers.get('x-request-id') ?? '' });
      res.end(real.text);
    });
    try {
      const opts = { retry: { maxAttempts: 3, backoffMs: 5 } };
      const c = client(rockville, 'managed', opts, gateway.url);
      const e = await rejects(c.encrypt({ data: 'x' }), RequestError, 'HTTP_502');
      assert.equal(e.status, 502);
      assert.equal(gateway.hits.filter((h) => h === 'POST /v1/encrypt').length, 1, 'encrypt was sent once: the gateway may have passed it on');

      const { encryptedData } = await c.encrypt({ data: 'x' }); // the gateway lets this one through
      const { decryptedData } = await c.decrypt({ encryptedData });
      assert.equal(decryptedData, 'x');
      assert.equal(gateway.hits.filter((h) => h === 'POST /v1/decrypt').length, 2, 'decrypt was retried after the 502');

      const unsafe = client(rockville, 'managed', { retry: { ...opts.retry, retryUnsafe: true } }, gateway.url);
      assert.ok((await unsafe.signEncrypt({ data: 'x' })).encryptedData);
      assert.equal(gateway.hits.filter((h) => h === 'POST /v1/sign-encrypt').length, 2);
    } finally {
      await gateway.close();
    }
  });

  test('a refused connection is retried even for encrypt (nothing was sent), then RequestError NETWORK_ERROR', async () => {
    const closed = await startShim(() => undefined);
    await closed.close();
    const retries: RetryInfo[] = [];
    const c = client(rockville, 'managed', { retry: { maxAttempts: 3, backoffMs: 5, onRetry: (r) => retries.push(r) } }, closed.url);
    const e = await rejects(c.encrypt({ data: 'x' }), RequestError, 'NETWORK_ERROR');
    assert.equal(e.status, undefined);
    assert.equal(retries.length, 2);
  });

  test('timeoutMs aborts a silent server → RequestError TIMEOUT; an AbortSignal cancels', async () => {
    const silent = await startShim(() => undefined); // never answers
    try {
      const c = client(rockville, 'managed', { timeoutMs: 200 }, silent.url);
      const started = Date.now();
      const e = await rejects(c.encrypt({ data: 'x' }), RequestError, 'TIMEOUT');
      assert.ok(Date.now() - started < 2000);
      assert.equal(e.status, undefined);
      // A timeout may come after the server did the work: encrypt is not repeated, decrypt is.
      const retrying = client(rockville, 'managed', { timeoutMs: 100, retry: { maxAttempts: 2, backoffMs: 1 } }, silent.url);
      const before = silent.hits.length;
      await rejects(retrying.encrypt({ data: 'x' }), RequestError, 'TIMEOUT');
      assert.equal(silent.hits.length - before, 1);
      await rejects(retrying.decrypt({ encryptedData: 'abc' }), RequestError, 'TIMEOUT');
      assert.equal(silent.hits.length - before, 3);

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      await rejects(client(rockville, 'managed', {}, silent.url).encrypt({ data: 'x', signal: controller.signal }), RequestError, 'ABORTED');
    } finally {
      await silent.close();
    }
  });
});

describe('sharing, revocation and audit', () => {
  test('share on sign-encrypt, the partner opens it, revoke refuses it, restore gives it back; listPermissions and audit see it', async () => {
    const owner = client(rockville, 'managed');
    const other = client(partner, 'login');
    const expiresAt = new Date(Date.now() + 86_400_000);
    const sealed = await owner.signEncrypt({ data: MESSAGE, permissions: [{ partnerId: partner.org_id, actions: ['read'], expiresAt }] });
    const header = inspectEnvelope(sealed.encryptedData);
    assert.deepEqual(header.permissions, [{ partnerId: partner.org_id, actions: ['read'], expiresAt: expiresAt.toISOString() }]);
    assert.equal(header.ownerOrgId, rockville.org_id);
    assert.equal(header.envelopeId, sealed.envelopeId);

    const opened = await other.decryptVerify({ encryptedData: sealed.encryptedData });
    assert.equal(opened.decryptedData, MESSAGE);
    assert.equal(opened.signedBy, 'Rockville Insurance Group');

    const revoked = await owner.revoke({ partnerId: partner.org_id, envelopeId: sealed.envelopeId });
    assert.deepEqual(
      { ...revoked, revokedAt: undefined, requestId: undefined },
      {
        ownerOrgId: rockville.org_id,
        partnerId: partner.org_id,
        envelopeId: sealed.envelopeId,
        scope: 'envelope',
        revoked: true,
        changed: true,
        revokedAt: undefined,
        accessRevoked: true,
        requestId: undefined,
      },
    );
    assert.equal((await owner.revoke({ partnerId: partner.org_id, envelopeId: sealed.envelopeId })).changed, false, 'idempotent');
    const denied = await rejects(other.decrypt({ encryptedData: sealed.encryptedData }), AuthError, 'ENVELOPE_ACCESS_DENIED');
    assert.equal(denied.status, 403);

    const list = await owner.listPermissions({ envelopeId: sealed.envelopeId });
    assert.equal(list.revocations.length, 1);
    assert.equal(list.revocations[0]?.partnerId, partner.org_id);
    assert.equal(list.revocations[0]?.scope, 'envelope');

    const restored = await owner.restore({ partnerId: partner.org_id, envelopeId: sealed.envelopeId });
    assert.equal(restored.revoked, false);
    assert.equal((await other.decrypt({ encryptedData: sealed.encryptedData })).decryptedData, MESSAGE);

    const page = await owner.audit({ envelopeId: sealed.envelopeId, limit: 2 });
    assert.equal(page.records.length, 2);
    assert.ok(page.nextCursor);
    const ownerLog: string[] = [];
    for await (const r of owner.auditRecords({ envelopeId: sealed.envelopeId, limit: 2 }))
      ownerLog.push(`${r.orgId === partner.org_id ? 'partner ' : ''}${r.operation}:${r.outcome}`);
    // The owner's chain also holds the partner's opens of its envelope, allowed and refused (issue 10, item 6).
    assert.deepEqual(ownerLog.reverse(), [
      'sign-encrypt:success',
      'partner decrypt-verify:success',
      'permissions.revoke:success',
      'permissions.revoke:success',
      'partner decrypt:failure',
      'permissions.list:success',
      'permissions.restore:success',
      'partner decrypt:success',
    ]);
    // The partner's opens are in the partner's own chain.
    const partnerLog = (await other.audit({ envelopeId: sealed.envelopeId })).records.map((r) => `${r.operation}:${r.outcome}:${r.errorCode ?? ''}`);
    assert.deepEqual(partnerLog.reverse(), ['decrypt-verify:success:', 'decrypt:failure:ENVELOPE_ACCESS_DENIED', 'decrypt:success:']);
    const failures = await other.audit({ envelopeId: sealed.envelopeId, outcome: 'failure', from: new Date(Date.now() - 60_000), operation: 'decrypt' });
    assert.deepEqual(
      failures.records.map((r) => [r.operation, r.errorCode, r.httpStatus, r.chainId, r.envelopeOwnerId]),
      [['decrypt', 'ENVELOPE_ACCESS_DENIED', 403, partner.org_id, rockville.org_id]],
    );
  });
});

describe('offline verification', () => {
  let sealed: { encryptedData: string };
  let result: Awaited<ReturnType<Client['decryptVerify']>>;

  before(async () => {
    const c = client(rockville, 'managed');
    sealed = await c.signEncrypt({ data: UNICODE, permissions: [{ partnerId: partner.org_id }] });
    result = await c.decryptVerify({ encryptedData: sealed.encryptedData });
  });

  test('a genuine result verifies with the published key; the facts come from the signed header', async () => {
    const keys = await client(partner, 'managed').getPublicKeys(rockville.org_id);
    assert.equal(keys.orgId, rockville.org_id);
    assert.equal(keys.name, 'Rockville Insurance Group');
    const v = verifyOffline({ decryptVerifyResult: result, publicKeys: keys });
    assert.equal(v.valid, true, v.message);
    assert.equal(v.signedBy, 'Rockville Insurance Group');
    assert.equal(v.signedTimestamp, result.signedTimestamp);
    assert.equal(v.envelopeId, result.envelopeId);
    assert.equal(v.recipientOrgId, rockville.org_id);
    assert.deepEqual(v.permissions, [{ partnerId: partner.org_id, actions: ['read'] }]);

    // The raw key document (plain and wrapped), a pinned raw key, and the raw JSON body all work.
    const plain = (await (await fetch(`${server.url}/keys/${rockville.org_id}`)).json()) as { keys: { key_id: string; public_key: string }[] };
    const wrapped = await (await fetch(`${server.url}/v1/keys/${rockville.org_id}`)).json();
    const pinned = plain.keys.find((k) => k.key_id === result.signerKeyId)?.public_key as string;
    for (const publicKeys of [plain as never, wrapped as never, pinned, plain.keys as never]) {
      assert.equal(verifyOffline({ decryptVerifyResult: result, publicKeys }).valid, true);
    }
    const wire = {
      decrypted_data: result.decryptedData,
      signed_by: result.signedBy,
      signed_timestamp: result.signedTimestamp,
      envelope_id: result.envelopeId,
      signer_org_id: result.signerOrgId,
      signer_key_id: result.signerKeyId,
      signature: result.signature,
      batch_proof: result.batchProof && {
        leaf_salt: result.batchProof.leafSalt,
        batch_size: result.batchProof.batchSize,
        leaf_index: result.batchProof.leafIndex,
        path: result.batchProof.path,
      },
    };
    assert.equal(verifyOffline({ decryptVerifyResult: wire, encryptedData: sealed.encryptedData, publicKeys: plain as never }).valid, true);
    assert.equal((await client(rockville, 'login').verifyOffline(result)).valid, true, 'Client#verifyOffline fetches the keys when none are given');
  });

  test('altered plaintext, signer name, header, signature or the wrong key → not valid, with the reason', async () => {
    const keys = await client(rockville, 'login').getPublicKeys(rockville.org_id);
    const otherKeys = await client(rockville, 'login').getPublicKeys(partner.org_id);
    const check = (overrides: Record<string, unknown>, publicKeys: unknown = keys, encryptedData?: string) =>
      verifyOffline({ decryptVerifyResult: { ...result, ...overrides }, publicKeys: publicKeys as never, ...(encryptedData ? { encryptedData } : {}) });

    assert.equal(check({ decryptedData: `${UNICODE}.` }).reason, 'SIGNATURE_MISMATCH');
    assert.equal(check({ signedBy: 'Rockville Insurance Group Ltd' }).reason, 'SIGNATURE_MISMATCH');
    const sig = result.signature;
    assert.equal(check({ signature: (sig[10] === 'A' ? 'B' : 'A') + sig.slice(1) }).reason, 'SIGNATURE_MISMATCH', 'ML-DSA part flipped');
    assert.equal(
      check({ signature: sig.slice(0, -3) + (sig.at(-3) === 'A' ? 'B' : 'A') + sig.slice(-2) }).reason,
      'SIGNATURE_MISMATCH',
      'Ed25519 part flipped',
    );
    assert.equal(check({}, otherKeys).reason, 'SIGNER_KEY_UNKNOWN', "another organisation's key document");
    const otherSigning = otherKeys.keys.find((k) => k.kind === 'signing')?.publicKey as string;
    assert.equal(check({}, otherSigning).reason, 'SIGNATURE_MISMATCH', "a pinned key that is not the signer's");
    assert.equal(check({ signedTimestamp: '2020-01-01T00:00:00.000000+00:00' }).reason, 'CLAIM_MISMATCH');

    // Another sign-encrypt envelope's header with this result: the signature is bound to its envelope.
    const another = await client(rockville, 'managed').signEncrypt({ data: UNICODE, permissions: [{ partnerId: partner.org_id }] });
    assert.equal(check({ encryptedData: another.encryptedData, envelopeId: undefined, signedTimestamp: undefined }).reason, 'SIGNATURE_MISMATCH');
    assert.equal(check({ encryptedData: 'not an envelope' }).reason, 'MALFORMED');
  });

  test('after a key rotation the old envelope still verifies against the published history, not against the active key alone', async () => {
    const rotated = await server.services.rotateKeys(rockville.org_id);
    assert.equal(rotated.signingKeyId, `${rockville.org_id}.sig.v2`);
    const keys = await client(rockville, 'login').getPublicKeys(rockville.org_id);
    assert.deepEqual(
      keys.keys.filter((k) => k.kind === 'signing').map((k) => [k.keyId, k.active]),
      [
        [`${rockville.org_id}.sig.v2`, true],
        [`${rockville.org_id}.sig.v1`, false],
      ],
    );
    assert.equal(verifyOffline({ decryptVerifyResult: result, publicKeys: keys }).valid, true);
    const activeOnly = { ...keys, keys: keys.keys.filter((k) => k.active) };
    assert.equal(verifyOffline({ decryptVerifyResult: result, publicKeys: activeOnly }).reason, 'SIGNER_KEY_UNKNOWN');
    // New envelopes are signed with v2 and verify too.
    const c = client(rockville, 'managed');
    const fresh = await c.decryptVerify({ encryptedData: (await c.signEncrypt({ data: MESSAGE })).encryptedData });
    assert.equal(fresh.signerKeyId, `${rockville.org_id}.sig.v2`);
    assert.equal(verifyOffline({ decryptVerifyResult: fresh, publicKeys: activeOnly }).valid, true);
  });
});

describe('in a browser', () => {
  test('the compiled SDK runs in chromium, cross-origin: login and managed modes, typed errors, offline verification', async (t) => {
    const CHROMIUM = '/usr/bin/chromium';
    if (!existsSync(CHROMIUM)) {
      t.skip(`${CHROMIUM} is not installed`);
      return;
    }
    // A page on another origin that loads the SDK as plain ES modules (@noble/* through an import map).
    const sdkDir = join(ROOT, 'packages', 'sdk', 'dist');
    const nobleDir = join(ROOT, 'node_modules', '@noble');
    const importMap = { imports: { '@noble/': '/noble/', '#base64': '/sdk/runtime/base64.browser.js' } };
    const page = `<!doctype html><meta charset="utf-8"><title>sdk</title><script type="importmap">${JSON.stringify(importMap)}</script><p>sdk test</p>`;
    const site = await startShim((req, res) => {
      const url = (req.url ?? '/').split('?')[0] as string;
      const file = url.startsWith('/sdk/') ? join(sdkDir, url.slice(4)) : url.startsWith('/noble/') ? join(nobleDir, url.slice(7)) : undefined;
      if (url === '/') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(page);
      } else if (file && !file.includes('..') && existsSync(file)) {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(readFileSync(file));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    const api = await startTestServer({ corsOrigins: [site.url] });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    try {
      const org = await api.createOrg('Browser Org');
      const tab = await browser.newPage();
      const errors: string[] = [];
      tab.on('pageerror', (e) => errors.push(e.message));
      await tab.goto(site.url);
      const result = await tab.evaluate(
        async ({ baseUrl, org }) => {
          // A path the browser resolves, not a module for tsc to find.
          const sdkPath: string = '/sdk/index.js';
          const sdk = await import(sdkPath);
          const credentials = { apiKey: org.api_key, accessKey: org.access_key, secretKey: org.secret_key };
          const out: Record<string, unknown> = {
            hasBuffer: typeof (globalThis as { Buffer?: unknown }).Buffer,
            hasProcess: typeof (globalThis as { process?: unknown }).process,
          };
          const viaLogin = new sdk.Client({ baseUrl, credentials, auth: sdk.login({ username: org.username, password: org.password }) });
          const sealed = await viaLogin.signEncrypt({ data: 'from the browser 🔐' });
          const opened = await viaLogin.decryptVerify({ encryptedData: sealed.encryptedData });
          out.login = [opened.decryptedData, opened.isValidSignature, opened.signedBy];
          const viaManaged = viaLogin.withAuth(sdk.managed({ username: org.username, password: org.password }));
          out.managed = (await viaManaged.decrypt({ encryptedData: (await viaManaged.encrypt({ data: 'x' })).encryptedData })).decryptedData;
          const keys = await viaManaged.getPublicKeys(opened.signerOrgId);
          out.offline = sdk.verifyOffline({ decryptVerifyResult: opened, publicKeys: keys }).valid;
          out.offlineTampered = sdk.verifyOffline({ decryptVerifyResult: { ...opened, decryptedData: 'from the browser' }, publicKeys: keys }).reason;
          try {
            await viaLogin.withAuth(sdk.managed({ username: org.username, password: 'wrong-password-in-browser' })).encrypt({ data: 'x' });
          } catch (e) {
            out.error = [e instanceof sdk.AuthError, (e as { code: string }).code, typeof (e as { requestId?: string }).requestId];
          }
          return out;
        },
        { baseUrl: api.url, org },
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(result, {
        hasBuffer: 'undefined',
        hasProcess: 'undefined',
        login: ['from the browser 🔐', true, 'Browser Org'],
        managed: 'x',
        offline: true,
        offlineTampered: 'SIGNATURE_MISMATCH',
        error: [true, 'NOT_AUTHORIZED', 'string'],
      });
    } finally {
      await browser.close();
      await api.stop();
      await site.close();
    }
  });
});

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { login, managedHeaders, partnerHeaders, post, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * HTTP hygiene around the API: parser-level refusals close the connection cleanly, the identity
 * endpoint answers bad bodies in its own 400 shape, and no answer may be cached or content-sniffed.
 */

describe('HTTP hygiene', () => {
  let server: TestServer;
  let org: NewOrganisation;

  before(async () => {
    server = await startTestServer({ rateLimitPerSecond: 0 });
    org = await server.createOrg('Hygiene Ltd');
  });
  after(async () => {
    await server.stop();
  });

  /**
   * Sends `first` on a fresh keep-alive connection, waits for its answer, then sends `second`, and
   * collects everything until the server closes: what arrived and whether the socket was reset.
   */
  async function keepAliveThen(first: string, second: string): Promise<{ text: string; error: string | undefined }> {
    const { hostname, port } = new URL(server.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const giveUp = setTimeout(() => socket.destroy(), 10_000);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(first);
    const deadline = Date.now() + 5_000;
    while (!/^HTTP\/1\.1 200 [\s\S]*\r\n\r\n\{"status":"ok"\}/.test(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(text, /^HTTP\/1\.1 200 /, 'the first request is answered and the connection kept alive');
    text = '';
    socket.write(second);
    await closed;
    clearTimeout(giveUp);
    return { text, error };
  }

  const healthz = 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';

  test('headers too large on a keep-alive connection: 431 in the API shape with Connection: close, and the connection ends without a reset', async () => {
    const { text, error } = await keepAliveThen(healthz, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`);
    assert.match(text, /^HTTP\/1\.1 431 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.match(text, /\r\ncache-control: no-store\r\n/i);
    assert.match(text, /\r\nx-content-type-options: nosniff\r\n/i);
    assert.deepEqual(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)), {
      code: 'HEADERS_TOO_LARGE',
      message: 'the request headers are larger than the server accepts',
    });
    assert.equal(error, undefined, 'no ECONNRESET');
  });

  test('a malformed request on a keep-alive connection: 400 BAD_REQUEST with Connection: close, and no reset', async () => {
    const { text, error } = await keepAliveThen(healthz, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).code, 'BAD_REQUEST');
    assert.equal(error, undefined, 'no ECONNRESET');
  });

  /** Sends one raw GET with `Connection: close` and parses the answer: status, headers, body. */
  async function rawGet(path: string, requestId: string): Promise<{ status: number; headers: Map<string, string>; body: string }> {
    const { hostname, port } = new URL(server.url);
    const socket = connect({ host: hostname, port: Number(port) });
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    const giveUp = setTimeout(() => socket.destroy(), 5_000);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    clearTimeout(giveUp);
    const split = text.indexOf('\r\n\r\n');
    const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
    const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) };
  }

  test('a path the router refuses (bad percent-encoding, an over-long parameter) answers in the API error shape with the security headers and x-request-id', async () => {
    const longId = 'o'.repeat(3_000);
    const cases: { path: string; status: number; code: string; managed: boolean }[] = [
      { path: '/v1/keys/%ff', status: 400, code: 'BAD_REQUEST', managed: true },
      { path: '/v1/keys/%', status: 400, code: 'BAD_REQUEST', managed: true },
      { path: '/v1/keys/%E0%A4%A', status: 400, code: 'BAD_REQUEST', managed: true },
      { path: '/keys/%ff', status: 400, code: 'BAD_REQUEST', managed: false },
      { path: `/v1/keys/${longId}`, status: 414, code: 'PATH_PARAMETER_TOO_LONG', managed: true },
      { path: `/keys/${longId}`, status: 414, code: 'PATH_PARAMETER_TOO_LONG', managed: false },
    ];
    for (const [i, c] of cases.entries()) {
      const requestId = `framework-error-${i}`;
      const res = await rawGet(c.path, requestId);
      const what = `${c.path.slice(0, 40)}: ${res.body.slice(0, 120)}`;
      assert.equal(res.status, c.status, what);
      assert.equal(res.headers.get('x-request-id'), requestId, `${what}: x-request-id`);
      assert.equal(res.headers.get('cache-control'), 'no-store', `${what}: cache-control`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${what}: nosniff`);
      const json = JSON.parse(res.body) as { statusCode?: number; body?: { error: { code: string; message: string } }; code?: string; message?: string };
      const error = c.managed ? json.body?.error : json;
      if (c.managed) assert.equal(json.statusCode, c.status, what);
      assert.equal(error?.code, c.code, what);
      assert.equal(typeof error?.message, 'string', what);
      assert.ok(!JSON.stringify(json).includes('FST_ERR'), `${what}: no framework internals`);
      assert.ok(!JSON.stringify(json).includes(longId), `${what}: the over-long parameter is not echoed back`);
    }
  });

  test("POST / with a text/plain or non-object body answers the identity provider's 400 SerializationException", async () => {
    const target = { 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' };
    const cases: { type: string; body: string }[] = [
      { type: 'text/plain', body: 'USERNAME=someone' },
      { type: 'application/x-amz-json-1.1', body: '5' },
      { type: 'application/x-amz-json-1.1', body: '"a string"' },
      { type: 'application/x-amz-json-1.1', body: 'null' },
      { type: 'application/x-amz-json-1.1', body: '[]' },
    ];
    for (const c of cases) {
      const res = await fetch(`${server.url}/`, { method: 'POST', headers: { ...target, 'content-type': c.type }, body: c.body });
      const json = (await res.json()) as { __type: string; message: string };
      assert.equal(res.status, 400, `${c.type} ${c.body}`);
      assert.equal(res.headers.get('x-amzn-errortype'), 'SerializationException:');
      assert.deepEqual(json, { __type: 'SerializationException', message: 'the body is not a JSON object' });
    }
  });

  test('every API answer says Cache-Control: no-store and X-Content-Type-Options: nosniff; console assets are nosniff', async () => {
    const { IdToken } = await login(server.url, org);
    const direct = { authorization: `Bearer ${IdToken}`, ...partnerHeaders(org) };
    const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'never cache me' });
    const answers: [string, Headers][] = [
      ['sign-encrypt', sealed.headers],
      ['decrypt-verify', (await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data })).headers],
      ['decrypt (Direct)', (await post(`${server.url}/decrypt`, direct, { encrypted_data: sealed.json.body.encrypted_data })).headers],
      ['401', (await post(`${server.url}/decrypt`, { ...direct, authorization: 'Bearer x.y.z' }, { encrypted_data: 'x' })).headers],
      ['400', (await post(`${server.url}/v1/decrypt`, managedHeaders(org), { nope: 1 })).headers],
      ['404', (await fetch(`${server.url}/no/such/route`)).headers],
      ['healthz', (await fetch(`${server.url}/healthz`)).headers],
      ['readyz', (await fetch(`${server.url}/readyz`)).headers],
      ['jwks', (await fetch(`${server.url}/.well-known/jwks.json`)).headers],
      ['openapi', (await fetch(`${server.url}/openapi.json`)).headers],
      [
        'InitiateAuth',
        (
          await fetch(`${server.url}/`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
            body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
          })
        ).headers,
      ],
    ];
    for (const [name, headers] of answers) {
      assert.equal(headers.get('cache-control'), 'no-store', `${name}: cache-control`);
      assert.equal(headers.get('x-content-type-options'), 'nosniff', `${name}: nosniff`);
    }
    for (const asset of ['/console', '/console/console.js', '/console/console.css']) {
      const res = await fetch(`${server.url}${asset}`);
      await res.arrayBuffer();
      assert.equal(res.status, 200, asset);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${asset}: nosniff`);
    }
  });
});

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { errorSpec, type ErrorCode } from '@pqseal/sdk/catalogue';
import { managedHeaders, partnerHeaders, post, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Real requests to the real server, one per error code an HTTP client can provoke: each answer has
 * the catalogue's status and code, the shape of its path (Managed `{statusCode, body: {error}}`,
 * Direct `{code, message}`), and `Retry-After` exactly when the catalogue says it is retryable.
 * 29 of the 36 codes of the API. Not provoked here: INVALID_CONTENT_LENGTH (Node frames the body by
 * Content-Length), ENVELOPE_TOO_LARGE (the body limit refuses first), KEY_NOT_FOUND, TOKEN_EXPIRED
 * (needs a clock: test/server.tokens.test.ts), CRYPTO_TIMEOUT (at the pool: test/load-shedding.test.ts),
 * INTERNAL_ERROR and ORG_KEYS_MISSING (faults). The mapping of every code is checked in
 * test/error-catalogue.test.ts.
 */

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- error bodies in either shape
  readonly json: any;
}

function assertAnswer(answer: Answer, code: ErrorCode, shape: 'managed' | 'direct'): void {
  const spec = errorSpec(code);
  const error = shape === 'managed' ? answer.json?.body?.error : answer.json;
  assert.equal(error?.code, code, `${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
  assert.equal(answer.status, spec.status, code);
  if (shape === 'managed') assert.equal(answer.json.statusCode, spec.status);
  assert.equal(typeof error.message, 'string');
  if (spec.retryable) assert.ok(Number(answer.retryAfter) >= 1, `${code}: Retry-After ${answer.retryAfter}`);
  else assert.equal(answer.retryAfter, null, `${code}: no Retry-After`);
}

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: text ? JSON.parse(text) : undefined };
}

async function postJson(url: string, headers: Record<string, string>, body: unknown): Promise<Answer> {
  const res = await post(url, headers, body);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json: res.json };
}

/** Writes `text` on a fresh connection and reads until the server closes it: for what fetch cannot send. */
async function raw(server: TestServer, text: string): Promise<Answer> {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port) });
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const giveUp = setTimeout(() => socket.destroy(), 15_000);
  socket.write(text);
  await closed;
  clearTimeout(giveUp);
  const [head = '', body = ''] = received.split('\r\n\r\n');
  const retryAfter = /\r\nretry-after: (\d+)/i.exec(head)?.[1] ?? null;
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), retryAfter, json: JSON.parse(body) };
}

function headerLines(headers: Record<string, string>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
}

describe('each code a client can provoke: catalogue status and code on the wire', () => {
  let server: TestServer;
  let alpha: NewOrganisation;
  let beta: NewOrganisation;
  let plain: string;
  let shared: string;

  before(async () => {
    server = await startTestServer({ bodyLimitBytes: 64 * 1024, maxInFlightBytesPerClient: 32 * 1024, bodyTimeoutMs: 3000 });
    alpha = await server.createOrg('Catalogue Alpha');
    beta = await server.createOrg('Catalogue Beta');
    plain = (await post(`${server.url}/v1/encrypt`, managedHeaders(alpha), { data: 'catalogue' })).json.body.encrypted_data as string;
    const grant = [{ partner_id: beta.org_id, permissions: ['read'] }];
    shared = (await post(`${server.url}/v1/encrypt`, managedHeaders(alpha), { data: 'shared', permissions: grant })).json.body.encrypted_data as string;
  });
  after(() => server.stop());

  const url = (path: string) => `${server.url}${path}`;
  const a = () => managedHeaders(alpha);
  const withByte = (envelope: string, index: number, value: number) => {
    const bytes = Buffer.from(envelope, 'base64url');
    bytes[index] = value;
    return bytes.toString('base64url');
  };

  const managedCases: [ErrorCode, () => Promise<Answer>][] = [
    ['VALIDATION_ERROR', () => postJson(url('/v1/encrypt'), Object.fromEntries(Object.entries(a()).filter(([name]) => name !== 'secret_key')), { data: 'x' })],
    ['INVALID_JSON', () => send(url('/v1/encrypt'), { method: 'POST', headers: a(), body: '{"data":' })],
    ['INVALID_CURSOR', () => send(url('/v1/permissions?cursor=bm9wZQ'), { headers: a() })],
    ['ENVELOPE_MALFORMED', () => postJson(url('/v1/decrypt'), a(), { encrypted_data: 'short' })],
    ['ENVELOPE_UNSUPPORTED_VERSION', () => postJson(url('/v1/decrypt'), a(), { encrypted_data: withByte(plain, 0, 9) })],
    ['ENVELOPE_UNSUPPORTED_SUITE', () => postJson(url('/v1/decrypt'), a(), { encrypted_data: withByte(plain, 1, 7) })],
    ['ENVELOPE_AUTH_FAILED', () => postJson(url('/v1/decrypt'), a(), { encrypted_data: withByte(plain, Buffer.from(plain, 'base64url').length - 1, 0) })],
    ['BAD_REQUEST', () => send(url('/v1/keys/%ff'))],
    ['NOT_AUTHORIZED', () => postJson(url('/v1/encrypt'), { ...a(), password: 'not the password 1' }, { data: 'x' })],
    ['PARTNER_CREDENTIALS_INVALID', () => postJson(url('/v1/encrypt'), { ...a(), secret_key: 'not the secret key' }, { data: 'x' })],
    ['PARTNER_CREDENTIALS_MISMATCH', () => postJson(url('/v1/encrypt'), { ...a(), ...partnerHeaders(beta) }, { data: 'x' })],
    ['ENVELOPE_ACCESS_DENIED', () => postJson(url('/v1/decrypt'), managedHeaders(beta), { encrypted_data: plain })],
    ['NOT_FOUND', () => send(url('/v1/no-such-route'))],
    ['ENVELOPE_NOT_FOUND', () => postJson(url('/v1/permissions/revoke'), a(), { partner_id: beta.org_id, envelope_id: '0'.repeat(32) })],
    ['ORGANISATION_NOT_FOUND', () => send(url('/v1/keys/org_unknown'))],
    ['BODY_TOO_LARGE', () => postJson(url('/v1/encrypt'), a(), { data: 'x'.repeat(70_000) })],
    ['PATH_PARAMETER_TOO_LONG', () => send(url(`/v1/keys/${'o'.repeat(101)}`))],
    ['UNSUPPORTED_MEDIA_TYPE', () => send(url('/v1/encrypt'), { method: 'POST', headers: { ...a(), 'Content-Type': 'application/xml' }, body: '<x/>' })],
    ['ENVELOPE_NOT_SIGNED', () => postJson(url('/v1/decrypt-verify'), a(), { encrypted_data: plain })],
    [
      'SERVICE_BUSY',
      async () => {
        // A request alone is always admitted: another upload from this address holds 30 KiB of its 32 KiB share.
        const holder = connect({ host: new URL(server.url).hostname, port: Number(new URL(server.url).port) });
        holder.on('error', () => undefined);
        holder.write(`POST /v1/encrypt HTTP/1.1\r\nHost: localhost\r\ncontent-length: 40000\r\n${headerLines(a())}\r\n{"data":"${'h'.repeat(30 * 1024)}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        try {
          return await postJson(url('/v1/encrypt'), a(), { data: 'x'.repeat(8 * 1024) });
        } finally {
          holder.destroy();
        }
      },
    ],
    ['REQUEST_TIMEOUT', () => raw(server, `POST /v1/encrypt HTTP/1.1\r\nHost: localhost\r\ncontent-length: 100\r\n${headerLines(a())}\r\n{"data":`)],
  ];
  for (const [code, request] of managedCases) test(`${code} (Managed)`, async () => assertAnswer(await request(), code, 'managed'));

  test('TOKEN_INVALID (Direct)', async () => {
    assertAnswer(await postJson(url('/encrypt'), { authorization: 'Bearer abc.def.ghi', ...partnerHeaders(alpha) }, { data: 'x' }), 'TOKEN_INVALID', 'direct');
  });

  test('HEADERS_TOO_LARGE (before any route: the Direct shape)', async () => {
    assertAnswer(await raw(server, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: ${'p'.repeat(20_000)}\r\n\r\n`), 'HEADERS_TOO_LARGE', 'direct');
  });

  test('LOGIN_THROTTLED', async () => {
    const victim = await server.createOrg('Catalogue Throttled');
    let answer: Answer | undefined;
    for (let i = 0; i < 10 && answer?.status !== 429; i++) {
      answer = await postJson(url('/v1/encrypt'), { ...managedHeaders(victim), password: 'not the password 2' }, { data: 'x' });
    }
    assertAnswer(answer as Answer, 'LOGIN_THROTTLED', 'managed');
  });

  test('REVOCATION_STATE_UNAVAILABLE, AUDIT_UNAVAILABLE and STORE_UNAVAILABLE (a change not committed)', async () => {
    const db = new BetterSqlite3(join(server.dataDir, 'pqseal.db'));
    db.pragma('busy_timeout = 5000');
    try {
      db.exec('alter table revocations rename to revocations_unreadable');
      assertAnswer(await postJson(url('/v1/decrypt'), managedHeaders(beta), { encrypted_data: shared }), 'REVOCATION_STATE_UNAVAILABLE', 'managed');
      db.exec('alter table revocations_unreadable rename to revocations');
      db.exec(`create trigger audit_down before insert on audit_records begin select raise(abort, 'audit disk full'); end`);
      assertAnswer(await postJson(url('/v1/decrypt'), a(), { encrypted_data: plain }), 'AUDIT_UNAVAILABLE', 'managed');
      const revoke = await postJson(url('/v1/permissions/revoke'), a(), { partner_id: beta.org_id });
      assertAnswer(revoke, 'STORE_UNAVAILABLE', 'managed');
      assert.equal(revoke.retryAfter, '1', 'this refusal asks for a shorter wait than the catalogue default');
      db.exec('drop trigger audit_down');
    } finally {
      db.close();
    }
  });

  test('STORE_UNAVAILABLE (the store is closed; last, it ends the server)', async () => {
    const late = await server.createOrg('Catalogue Late'); // its login is not cached: it needs the store
    await server.services.store.close();
    const answer = await postJson(url('/v1/encrypt'), managedHeaders(late), { data: 'x' });
    assertAnswer(answer, 'STORE_UNAVAILABLE', 'managed');
    assert.equal(answer.retryAfter, String(errorSpec('STORE_UNAVAILABLE').retryAfterSeconds));
  });
});

describe('rate limits: catalogue status and code on the wire', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      {},
      { PQSEAL_RATE_LIMIT_BURST: '1', PQSEAL_RATE_LIMIT_RPS: '1', PQSEAL_LOGIN_BURST_PER_ADDRESS: '2', PQSEAL_LOGIN_RATE_PER_ADDRESS: '1' },
    );
  });
  after(() => server.stop());

  test('RATE_LIMITED', async () => {
    const org = await server.createOrg('Catalogue Limited');
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await post(`${server.url}/v1/encrypt`, managedHeaders(org), { data: 'x' });
        return { status: res.status, retryAfter: res.headers.get('retry-after'), json: res.json } satisfies Answer;
      }),
    );
    const limited = answers.find((answer) => answer.status === 429);
    assert.ok(limited, answers.map((answer) => answer.status).join(','));
    assertAnswer(limited, 'RATE_LIMITED', 'managed');
  });

  test('LOGIN_RATE_LIMITED', async () => {
    const org = await server.createOrg('Catalogue Login Limited');
    let answer: Answer | undefined;
    for (let i = 0; i < 5 && answer?.status !== 429; i++) {
      answer = await postJson(`${server.url}/v1/encrypt`, { ...managedHeaders(org), username: `nobody-${i}`, password: 'not the password 3' }, { data: 'x' });
    }
    assertAnswer(answer as Answer, 'LOGIN_RATE_LIMITED', 'managed');
  });
});

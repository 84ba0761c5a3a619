import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { login, managedHeaders, partnerHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Slow and unauthenticated clients must not exhaust shared capacity. Idle uploads come from another
 * loopback address (127.0.0.2: Linux routes all of 127/8 to lo) while every legitimate request from
 * 127.0.0.1 is served; the idle sockets are closed after the (shortened) timeouts.
 */

const MiB = 1024 * 1024;
const BODY_TIMEOUT_MS = 2_500;
const HEADERS_TIMEOUT_MS = 1_000;
const ATTACKER = '127.0.0.2';

interface RawConnection {
  readonly socket: Socket;
  readonly openedAt: number;
  /** Everything the server sent so far. */
  text(): string;
  /** Resolves when the server closed the connection: ms since it was opened, and how. */
  readonly closed: Promise<{ afterMs: number; error: string | undefined }>;
}

function rawConnection(url: string, localAddress: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    const openedAt = Date.now();
    const chunks: Buffer[] = [];
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    // A socket the server never closes fails the wait after a minute rather than hanging the run.
    const closed = new Promise<{ afterMs: number; error: string | undefined }>((done) => {
      const giveUp = setTimeout(() => socket.destroy(), 60_000);
      socket.once('close', () => {
        clearTimeout(giveUp);
        done({ afterMs: Date.now() - openedAt, error });
      });
    });
    socket.once('connect', () => resolve({ socket, openedAt, text: () => Buffer.concat(chunks).toString('utf8'), closed }));
    socket.once('error', reject);
  });
}

function headerBlock(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** Waits until `predicate` holds, or fails after `ms`. */
async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('slow and unauthenticated clients', () => {
  let server: TestServer;
  let owner: NewOrganisation;
  let attacker: NewOrganisation;
  const idle: { label: string; conn: RawConnection }[] = [];

  before(async () => {
    server = await startTestServer(
      { workers: 2, maxInFlightBytes: 16 * MiB, rateLimitPerSecond: 0 },
      { PQSEAL_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), PQSEAL_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), PQSEAL_REQUEST_TIMEOUT_MS: '30000' },
    );
    owner = await server.createOrg('Legitimate Ltd');
    attacker = await server.createOrg('Idle Uploads Ltd');
  });
  after(async () => {
    for (const { conn } of idle) conn.socket.destroy();
    await server.stop();
  });

  test('idle uploads from 127.0.0.2, with and without credentials, leave every operation of 127.0.0.1 served, and are closed after the body timeout', async () => {
    const announced = { 'Content-Type': 'application/json' };
    const open = async (label: string, path: string, headers: Record<string, string>): Promise<void> => {
      const conn = await rawConnection(server.url, ATTACKER);
      conn.socket.write(headerBlock(path, headers));
      idle.push({ label, conn });
    };
    // More than PQSEAL_MAX_INFLIGHT_BYTES could hold if announced bodies were charged: 16 × 4 MiB.
    for (let i = 0; i < 4; i++) {
      await open(`authenticated Content-Length ${i}`, '/v1/sign-encrypt', { ...announced, ...managedHeaders(attacker), 'Content-Length': String(4 * MiB) });
      await open(`authenticated chunked ${i}`, '/v1/sign-encrypt', { ...announced, ...managedHeaders(attacker), 'Transfer-Encoding': 'chunked' });
      await open(`anonymous Content-Length ${i}`, '/v1/decrypt-verify', { ...announced, 'Content-Length': String(4 * MiB) });
      await open(`anonymous chunked ${i}`, '/decrypt', { ...announced, 'Transfer-Encoding': 'chunked' });
    }
    // Every idle upload reaches the server and is dealt with as far as it can be without a body.
    await new Promise((r) => setTimeout(r, 800));
    const heldByIdle = server.services.admission.inFlight.bytes;
    assert.equal(heldByIdle, 0, 'bodies are charged as their bytes arrive: uploads that send nothing hold nothing');

    const { IdToken } = await login(server.url, owner);
    const direct = { authorization: `Bearer ${IdToken}`, ...partnerHeaders(owner) };
    const data = 'legitimate payload '.repeat(50);
    const seal = async (op: 'encrypt' | 'sign-encrypt', managed: boolean) =>
      post(`${server.url}${managed ? '/v1' : ''}/${op}`, managed ? managedHeaders(owner) : direct, { data });
    const [managedSigned, directSigned, managedPlain, directPlain] = await Promise.all([
      seal('sign-encrypt', true),
      seal('sign-encrypt', false),
      seal('encrypt', true),
      seal('encrypt', false),
    ]);
    const envelope = (r: { json: { body?: { encrypted_data: string }; encrypted_data?: string } }) => r.json.body?.encrypted_data ?? r.json.encrypted_data;
    const opened = await Promise.all([
      post(`${server.url}/v1/decrypt-verify`, managedHeaders(owner), { encrypted_data: envelope(managedSigned) }),
      post(`${server.url}/decrypt-verify`, direct, { encrypted_data: envelope(directSigned) }),
      post(`${server.url}/v1/decrypt`, managedHeaders(owner), { encrypted_data: envelope(managedPlain) }),
      post(`${server.url}/decrypt`, direct, { encrypted_data: envelope(directPlain) }),
    ]);
    const statuses = [managedSigned, directSigned, managedPlain, directPlain, ...opened].map((r) => r.status);
    const stillOpen = idle.filter((i) => !i.conn.socket.destroyed && i.conn.socket.readyState === 'open').length;
    assert.deepEqual(
      statuses,
      [200, 200, 200, 200, 200, 200, 200, 200],
      `every legitimate request is served while ${stillOpen} idle uploads hold ${heldByIdle} bytes`,
    );
    for (const r of opened) assert.equal(r.json.body?.decrypted_data ?? r.json.decrypted_data, data);

    // The uploads nobody vouched for were answered without their bodies; the others time out.
    for (const { label, conn } of idle.filter((i) => i.label.startsWith('anonymous'))) {
      await until(() => conn.text().length > 0, 3_000, `an answer to ${label}`);
      assert.match(conn.text(), /^HTTP\/1\.1 40[01] /, `${label} is refused before its body: ${conn.text().slice(0, 80)}`);
    }
    const closes = await Promise.all(idle.map(async ({ label, conn }) => ({ label, ...(await conn.closed), text: conn.text() })));
    for (const c of closes) {
      assert.ok(c.afterMs < BODY_TIMEOUT_MS + 3_000, `${c.label} was closed after ${c.afterMs} ms`);
      if (c.label.startsWith('authenticated'))
        assert.ok(c.afterMs >= BODY_TIMEOUT_MS - 100, `${c.label}: closed after the body timeout, not before (${c.afterMs} ms)`);
    }
    const timedOut = closes.filter((c) => /^HTTP\/1\.1 408 /.test(c.text));
    assert.ok(timedOut.length >= 1, 'a stalled body the server was reading is answered 408');
    for (const c of timedOut) {
      assert.match(c.text, /\r\nconnection: close\r\n/i);
      assert.match(c.text, /"code":"REQUEST_TIMEOUT"/);
    }
    await until(() => server.services.admission.inFlight.requests === 0, 3_000, 'the admission budget to come back');
    assert.deepEqual(server.services.admission.inFlight, { requests: 0, bytes: 0 });
  });

  test("a body is charged as it arrives: past its address's share it is refused mid-way, 503 with Connection: close", async () => {
    const address = '127.0.0.3';
    const headers = { ...managedHeaders(attacker), 'Content-Type': 'application/json' };
    // Two uploads of the same address that have sent 3 MiB each hold 6 of its 8 MiB.
    const holders: RawConnection[] = [];
    for (let i = 0; i < 2; i++) {
      const holder = await rawConnection(server.url, address);
      idle.push({ label: `holder ${i}`, conn: holder });
      holder.socket.write(headerBlock('/v1/encrypt', { ...headers, 'Content-Length': String(4 * MiB) }));
      holder.socket.write(`{"data":"${'h'.repeat(3 * MiB)}`);
      holders.push(holder);
    }
    await until(() => server.services.admission.heldBy(address).bytes >= 6 * MiB, 3_000, 'the bytes received to be charged');

    const chunked = await rawConnection(server.url, address);
    idle.push({ label: 'chunked', conn: chunked });
    chunked.socket.write(headerBlock('/v1/encrypt', { ...headers, 'Transfer-Encoding': 'chunked' }));
    const piece = `{"data":"${'c'.repeat(256 * 1024)}`;
    let sent = 0;
    while (sent < 6 * MiB && chunked.text() === '' && !chunked.socket.destroyed) {
      chunked.socket.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
      sent += piece.length;
      await new Promise((r) => setTimeout(r, 5));
      assert.ok(server.services.admission.heldBy(address).bytes <= 8 * MiB, 'the address never holds more than its share');
    }
    await until(() => /\r\n\r\n/.test(chunked.text()), 3_000, 'the refusal');
    assert.match(chunked.text(), /^HTTP\/1\.1 503 /);
    assert.match(chunked.text(), /\r\nconnection: close\r\n/i);
    assert.match(chunked.text(), /"code":"SERVICE_BUSY"/);
    assert.ok(sent > 1 * MiB, `refused only once its bytes passed the share (${sent} bytes sent)`);
    await chunked.closed;
    for (const holder of holders) holder.socket.destroy();
    await until(() => server.services.admission.heldBy(address).requests === 0, 3_000, 'the address to hold nothing');
  });

  test('authenticated idle uploads from two addresses, each within its share, leave every operation of 127.0.0.1 served', async () => {
    // The probe's attack: two addresses, each announcing 2 × 4 MiB (its whole share) with valid
    // credentials, then a byte now and then. Charged by announcement, they held the whole budget.
    const stalled: RawConnection[] = [];
    try {
      for (const address of ['127.0.0.4', '127.0.0.5']) {
        for (let i = 0; i < 2; i++) {
          const conn = await rawConnection(server.url, address);
          conn.socket.write(
            headerBlock('/v1/sign-encrypt', { 'Content-Type': 'application/json', ...managedHeaders(attacker), 'Content-Length': String(4 * MiB) }),
          );
          conn.socket.write('{');
          stalled.push(conn);
        }
      }
      await new Promise((r) => setTimeout(r, 800));
      assert.ok(
        server.services.admission.inFlight.bytes < 1024,
        `the stalled uploads hold only the bytes they sent (${server.services.admission.inFlight.bytes})`,
      );
      const data = 'served while others stall';
      const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(owner), { data });
      assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
      const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(owner), { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(opened.status, 200);
      assert.equal(opened.json.body.decrypted_data, data);
    } finally {
      for (const conn of stalled) conn.socket.destroy();
    }
  });

  test('an unauthenticated request announcing a large body is refused before its body is read', async () => {
    const cases: { path: string; headers: Record<string, string>; status: number }[] = [
      { path: '/v1/sign-encrypt', headers: { ...managedHeaders(owner), password: 'not the password at all' }, status: 401 },
      { path: '/v1/encrypt', headers: { ...managedHeaders(owner), secret_key: 'not the secret key at all' }, status: 403 },
      { path: '/sign-encrypt', headers: { authorization: 'Bearer not.a.token', ...partnerHeaders(owner) }, status: 401 },
      { path: '/decrypt', headers: { ...partnerHeaders(owner) }, status: 400 },
    ];
    registerSecret('not the password at all', 'not the secret key at all');
    for (const c of cases) {
      const conn = await rawConnection(server.url, '127.0.0.1');
      conn.socket.write(headerBlock(c.path, { ...c.headers, 'Content-Type': 'application/json', 'Content-Length': String(4 * MiB) }));
      await until(() => /\r\n\r\n/.test(conn.text()), 3_000, `an answer to ${c.path} before any body byte`);
      assert.match(conn.text(), new RegExp(`^HTTP/1\\.1 ${c.status} `), c.path);
      conn.socket.destroy();
    }
    assert.deepEqual(server.services.admission.inFlight, { requests: 0, bytes: 0 });
  });

  test('a connection whose headers never finish is closed after the headers timeout', async () => {
    const conn = await rawConnection(server.url, ATTACKER);
    conn.socket.write('POST /v1/sign-encrypt HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n');
    const closed = await conn.closed;
    assert.ok(closed.afterMs < HEADERS_TIMEOUT_MS + 2_000, `closed after ${closed.afterMs} ms`);
    assert.match(conn.text(), /^HTTP\/1\.1 408 /);
    assert.match(conn.text(), /\r\nconnection: close\r\n/i);
  });

  test('a large body sent slowly but steadily succeeds though it takes longer than the body timeout', async () => {
    const data = 's'.repeat(512 * 1024);
    const body = Buffer.from(JSON.stringify({ data }));
    const conn = await rawConnection(server.url, '127.0.0.1');
    conn.socket.write(headerBlock('/v1/sign-encrypt', { ...managedHeaders(owner), 'Content-Type': 'application/json', 'Content-Length': String(body.length) }));
    const pieces = 8;
    const started = Date.now();
    for (let i = 0; i < pieces; i++) {
      conn.socket.write(body.subarray(Math.floor((i * body.length) / pieces), Math.floor(((i + 1) * body.length) / pieces)));
      await new Promise((r) => setTimeout(r, (BODY_TIMEOUT_MS * 1.5) / pieces));
    }
    assert.ok(Date.now() - started > BODY_TIMEOUT_MS, 'the upload took longer than the body timeout');
    await until(() => /\r\n\r\n[\s\S]*"statusCode":\d+/.test(conn.text()), 10_000, 'the answer');
    assert.match(conn.text(), /^HTTP\/1\.1 200 /, conn.text().slice(0, 200));
    conn.socket.destroy();
  });
});

describe('one request, one answer', () => {
  const REQUEST_TIMEOUT_MS = 3_000;
  let server: TestServer;

  before(async () => {
    server = await startTestServer(
      { rateLimitPerSecond: 0 },
      { PQSEAL_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS), PQSEAL_HEADERS_TIMEOUT_MS: '1000', PQSEAL_BODY_TIMEOUT_MS: '2500' },
    );
  });
  after(async () => {
    await server.stop();
  });

  test('a request answered before its body, whose body keeps trickling past the request timeout, gets no second (408) answer: its connection is just closed', async () => {
    const conn = await rawConnection(server.url, '127.0.0.1');
    conn.socket.write(headerBlock('/v1/sign-encrypt', { 'Content-Type': 'application/json', 'Content-Length': String(4 * MiB) }));
    await until(() => /\r\n\r\n[\s\S]*\}$/.test(conn.text()), 3_000, 'the refusal before the body');
    assert.match(conn.text(), /^HTTP\/1\.1 40[01] /);
    // One byte every 500 ms: the drain never stalls for the body timeout, but outlives the request timeout.
    const drip = setInterval(() => {
      if (!conn.socket.destroyed) conn.socket.write('x');
    }, 500);
    try {
      const closed = await conn.closed;
      assert.ok(
        closed.afterMs >= REQUEST_TIMEOUT_MS - 100 && closed.afterMs < REQUEST_TIMEOUT_MS + 3_000,
        `closed after the request timeout (${closed.afterMs} ms)`,
      );
    } finally {
      clearInterval(drip);
    }
    const answers = conn.text().match(/HTTP\/1\.1 \d{3} /g) ?? [];
    assert.deepEqual(answers.length, 1, `exactly one answer on the connection, got: ${answers.join(', ')}`);
  });
});

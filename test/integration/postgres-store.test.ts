import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { inTransaction } from '../../src/ports/store.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { migrationNames } from '../../src/store/migrations.js';
import { openPostgresStore, type PostgresStore } from '../../src/store/postgres/open.js';
import { postgresUnavailableReason } from '../../src/store/postgres/errors.js';
import { getMeta, setMeta } from '../../src/store/meta.js';
import { createTestDatabase, randomMasterKey, type TestDatabase } from '../helpers/postgres.js';
import { login, managedHeaders, post, startTestServer } from '../helpers/server.js';

/** The PostgreSQL store adapter on its own: migrations under concurrency, conflicts retried, errors classified. */

const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

async function database(): Promise<TestDatabase> {
  const d = await createTestDatabase();
  databases.push(d);
  return d;
}

const open = (url: string, maxConnections = 4): Promise<PostgresStore> =>
  openPostgresStore({ url, maxConnections, connectTimeoutMs: 2_000, statementTimeoutMs: 10_000 });

describe('PostgreSQL store', () => {
  test('eight pools opening one fresh database at once: each migration runs exactly once, and every pool gets the schema', async () => {
    const { url } = await database();
    const stores = await Promise.all(Array.from({ length: 8 }, () => open(url, 2)));
    try {
      const { rows } = await sql<{ name: string; n: number }>`select name, count(*)::int8 as n from kysely_migration group by name order by name`.execute(
        stores[0]!.db,
      );
      assert.deepEqual(
        rows.map((r) => [r.name, r.n]),
        migrationNames().map((n) => [n, 1]),
      );
      for (const store of stores) assert.equal(await store.ping(), true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('bigint comes back as a number and bytea as bytes; the description hides the password', async () => {
    const { url } = await database();
    const store = await open(url);
    try {
      const { rows } = await sql<{ big: number; bytes: Uint8Array }>`select ${Date.now()}::int8 as big, '\\x00ff'::bytea as bytes`.execute(store.db);
      assert.equal(typeof rows[0]?.big, 'number');
      assert.deepEqual([...(rows[0]?.bytes ?? [])], [0, 255]);
      const withPassword = new URL(url);
      withPassword.password = 'hunter2';
      const described = await open(withPassword.toString());
      await described.close();
      assert.doesNotMatch(described.description, /hunter2/);
    } finally {
      await store.close();
    }
  });

  test('a database that cannot be reached at start: StoreOpenError naming the place and the reason, never the password', async () => {
    await assert.rejects(open('postgres://postgres:hunter2@127.0.0.1:1/nowhere'), (e: unknown) => {
      const message = (e as Error).message;
      return (
        (e as { code?: string }).code === 'STORE_OPEN_FAILED' && /127\.0\.0\.1:1/.test(message) && /ECONNREFUSED/.test(message) && !message.includes('hunter2')
      );
    });
  });

  test('concurrent read-then-write transactions: serialization failures are retried, no update is lost', async () => {
    const { url } = await database();
    const store = await open(url, 8);
    try {
      await setMeta(store, 'counter', '0');
      await Promise.all(
        Array.from({ length: 8 }, () =>
          inTransaction(store, async (trx) => {
            const value = Number(await getMeta(trx, 'counter'));
            await new Promise((r) => setTimeout(r, 5));
            await setMeta(trx, 'counter', String(value + 1));
          }),
        ),
      );
      assert.equal(await getMeta(store, 'counter'), '8');
    } finally {
      await store.close();
    }
  });

  test('exclusive: while one store holds a lock another store skips the work; once released, the next one runs', async () => {
    const { url } = await database();
    const [first, second] = await Promise.all([open(url), open(url)]);
    try {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let entered: () => void = () => undefined;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      const leader = first.exclusive('audit-checkpoints', async () => {
        entered();
        await held;
        return 'first';
      });
      await inside;
      assert.deepEqual(await second.exclusive('audit-checkpoints', async () => 'second'), { ran: false });
      assert.deepEqual(await second.exclusive('another-lock', async () => 'other'), { ran: true, value: 'other' });
      release();
      assert.deepEqual(await leader, { ran: true, value: 'first' });
      assert.deepEqual(await second.exclusive('audit-checkpoints', async () => 'second'), { ran: true, value: 'second' });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('the driver codes that mean "cannot serve now" are StoreUnavailableError; a query after close is STORE_CLOSED', async () => {
    for (const code of ['40001', '40P01', '53100', '53300', '57P01', '57014', '08006', '55P03', 'ECONNREFUSED', 'ECONNRESET']) {
      assert.equal(postgresUnavailableReason(Object.assign(new Error('x'), { code })), code);
    }
    assert.equal(postgresUnavailableReason(new Error('Connection terminated unexpectedly')), 'CONNECTION_LOST');
    assert.equal(postgresUnavailableReason(Object.assign(new Error('syntax'), { code: '42601' })), undefined);
    assert.equal(postgresUnavailableReason(Object.assign(new Error('dup'), { code: '23505' })), undefined);

    const { url } = await database();
    const store = await open(url);
    await store.close();
    await assert.rejects(getMeta(store, 'x'), (e: unknown) => e instanceof StoreUnavailableError && e.reason === 'STORE_CLOSED');
    assert.equal(await store.ping(), false);
  });
});

/** A TCP proxy in front of PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore. */
async function cuttableProxy(target: {
  host: string;
  port: number;
}): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server?.address() as { port: number }).port;
        resolve();
      });
    });
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

describe('PostgreSQL trouble, through the API', () => {
  test('connection lost mid-load and refused: 503 with Retry-After (never 500), /readyz false; back to 200 once PostgreSQL is reachable again', async () => {
    const db = await database();
    const proxy = await cuttableProxy({ host: '127.0.0.1', port: 5432 });
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    const server = await startTestServer({ databaseUrl: viaProxy.toString(), masterKey: randomMasterKey(), databaseConnectTimeoutMs: 1_000 });
    try {
      const org = await server.createOrg('Trouble Org');
      const seal = () => post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'through trouble' });
      assert.equal((await seal()).status, 200);

      const statuses: number[] = [];
      const failures: string[] = [];
      let stop = false;
      const load = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!stop) {
            const res = await seal().catch((e: unknown) => {
              failures.push(String((e as { cause?: unknown }).cause ?? e));
              return undefined;
            });
            if (res) statuses.push(res.status);
          }
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      await proxy.cut();
      await new Promise((r) => setTimeout(r, 1_500));
      const down = await seal();
      assert.equal(down.status, 503);
      // Logins are cached, so what fails first is the audit record the request needs (AUDIT_UNAVAILABLE, whose cause is the store).
      assert.match(down.json.body.error.code, /^(STORE|AUDIT)_UNAVAILABLE$/);
      assert.ok(Number(down.headers.get('retry-after')) > 0);
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503);

      await proxy.restore();
      await new Promise((r) => setTimeout(r, 1_200));
      stop = true;
      await load;
      assert.equal((await seal()).status, 200);
      assert.ok(statuses.includes(503), 'the load saw the outage');
      assert.deepEqual([...new Set(statuses)].sort(), [200, 503], `only 200 and 503: ${[...new Set(statuses)].join(',')}`);
      assert.ok(failures.length <= 4, `requests without an answer: ${failures.join('; ')}`);
    } finally {
      await server.stop();
      await proxy.close();
    }
  });

  test('pg_terminate_backend of every connection of the server mid-load: no 500, and the server recovers by itself', async () => {
    const db = await database();
    const server = await startTestServer({ databaseUrl: db.url, masterKey: randomMasterKey() });
    const admin = await open(db.url, 2);
    try {
      const org = await server.createOrg('Terminated Org');
      const seal = () => post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'terminated' });
      const statuses: number[] = [];
      let stop = false;
      const load = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!stop) statuses.push((await seal()).status);
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const { rows } = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int8 as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and application_name = 'pqseal'`.execute(admin.db);
      assert.ok((rows[0]?.n ?? 0) > 0, 'the server had connections to terminate');
      await new Promise((r) => setTimeout(r, 500));
      stop = true;
      await load;
      assert.ok(
        statuses.every((s) => s === 200 || s === 503),
        `only 200 and 503: ${[...new Set(statuses)].join(',')}`,
      );
      assert.equal((await seal()).status, 200);
    } finally {
      await admin.close();
      await server.stop();
    }
  });

  test('disk full while writing the audit log (53100, injected by a trigger): 503 without data, the revocation rolls back, no login token', async () => {
    const db = await database();
    const server = await startTestServer({ databaseUrl: db.url, masterKey: randomMasterKey() });
    const admin = await open(db.url, 2);
    try {
      const [alpha, beta] = [await server.createOrg('Alpha Disk'), await server.createOrg('Beta Disk')];
      const h = managedHeaders(alpha);
      const sealed = await post(`${server.url}/v1/encrypt`, h, {
        data: 'must not leak when unaudited',
        permissions: [{ partner_id: beta.org_id, permissions: ['read'] }],
      });
      assert.equal(sealed.status, 200);
      await sql`create function audit_down() returns trigger language plpgsql as $$ begin raise exception 'could not extend file' using errcode = '53100'; end $$`.execute(
        admin.db,
      );
      await sql`create trigger audit_down before insert on audit_records for each row execute function audit_down()`.execute(admin.db);

      const res = await post(`${server.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(res.status, 503);
      assert.equal(res.json.body.error.code, 'AUDIT_UNAVAILABLE');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
      assert.ok(!JSON.stringify(res.json).includes('must not leak'));

      const revoke = await post(`${server.url}/v1/permissions/revoke`, h, { partner_id: beta.org_id, envelope_id: sealed.json.body.envelope_id });
      assert.equal(revoke.status, 503);
      assert.equal(revoke.json.body.error.code, 'STORE_UNAVAILABLE');
      const { rows } = await sql<{ n: number }>`select count(*) as n from revocations where owner_org_id = ${alpha.org_id}`.execute(admin.db);
      assert.equal(rows[0]?.n, 0, 'the revocation rolled back with its audit record');

      await assert.rejects(login(server.url, beta), /503/);

      await sql`drop trigger audit_down on audit_records`.execute(admin.db);
      assert.equal((await post(`${server.url}/v1/decrypt`, h, { encrypted_data: sealed.json.body.encrypted_data })).status, 200);
      assert.ok((await login(server.url, beta)).IdToken);
    } finally {
      await admin.close();
      await server.stop();
    }
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Store } from '../../src/ports/store.js';
import { DB_FILENAME, openStore } from '../../src/store/database.js';
import { StoreClosedError, StoreUnavailableError, storeUnavailableCode } from '../../src/store/errors.js';
import { dbOf, inTransaction } from '../../src/ports/store.js';
import { newId, randomBase32, randomBase62 } from '../../src/common/ids.js';
import { getMeta, setMeta } from '../../src/store/meta.js';
import { migrationNames } from '../../src/store/migrations.js';
import { openSqliteConnection } from '../../src/store/sqlite-connection.js';
import { ThreadAuditSink } from '../../src/audit/append-thread.js';
import { failedDecryptEvent } from '../helpers/audit-events.js';

const execFileAsync = promisify(execFile);

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pqseal-store-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function appliedMigrations(store: Store): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
  return rows.map((r) => r.name);
}

describe('openStore', () => {
  test('creates the data directory (0700) and a private database file in WAL mode', async () => {
    const dataDir = join(root, 'fresh', 'nested');
    const store = await openStore({ dataDir });
    try {
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(dataDir, DB_FILENAME))).mode & 0o077, 0, 'database file readable by others');
      assert.equal(store.filename, join(dataDir, DB_FILENAME));

      const pragma = async (name: string, column = name) => (await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db)).rows[0]?.[column];
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('synchronous'), 2, 'synchronous = FULL');
      assert.equal(await pragma('busy_timeout', 'timeout'), 5000);
      assert.ok((await readdir(dataDir)).includes(`${DB_FILENAME}-wal`));
    } finally {
      await store.close();
    }
  });

  test('runs the migrations once; reopening is a no-op that keeps the data', async () => {
    const dataDir = join(root, 'reopen');
    const first = await openStore({ dataDir });
    assert.deepEqual(await appliedMigrations(first), migrationNames());
    assert.deepEqual(migrationNames(), [
      '001_initial',
      '002_sharing_audit',
      '003_audit_checkpoint_chain',
      '004_user_token_generation',
      '005_organisation_name_keys',
      '006_change_log',
    ]);
    await first.setMeta('bootstrapped', 'yes');
    await first.close();

    for (let i = 0; i < 2; i++) {
      const again = await openStore({ dataDir });
      try {
        assert.deepEqual(await appliedMigrations(again), migrationNames());
        assert.equal(await again.getMeta('bootstrapped'), 'yes');
      } finally {
        await again.close();
      }
    }
  });

  test('processes opening the same fresh file at once all succeed (migration lock)', async () => {
    const filename = join(root, 'race.db');
    const databaseModule = new URL('../../src/store/database.js', import.meta.url).href;
    const script = `const { openStore } = await import(${JSON.stringify(databaseModule)});
      const store = await openStore({ filename: ${JSON.stringify(filename)} });
      await store.close();`;
    const runs = Array.from({ length: 3 }, () => execFileAsync(process.execPath, ['--input-type=module', '-e', script]));
    await Promise.all(runs);
    const store = await openStore({ filename });
    try {
      assert.deepEqual(await appliedMigrations(store), migrationNames());
    } finally {
      await store.close();
    }
  });

  test('creates every table of the schema', async () => {
    const store = await openStore({ filename: join(root, 'tables.db') });
    try {
      const tables = (await store.db.introspection.getTables()).map((t) => t.name).sort();
      for (const name of ['credentials', 'login_throttle', 'meta', 'org_keys', 'organisations', 'refresh_tokens', 'signing_keys_jwt', 'users']) {
        assert.ok(tables.includes(name), `missing table ${name}`);
      }
    } finally {
      await store.close();
    }
  });
});

describe('a store in use', () => {
  let store: Store;
  before(async () => {
    store = await openStore({ filename: join(root, 'use.db') });
  });
  after(async () => {
    await store.close();
  });

  test('meta values upsert', async () => {
    assert.equal(await getMeta(store, 'k'), undefined);
    await setMeta(store, 'k', 'one');
    await setMeta(store, 'k', 'two');
    assert.equal(await getMeta(store, 'k'), 'two');
    assert.equal(await store.getMeta('k'), 'two');
  });

  test('foreign keys are enforced', async () => {
    await assert.rejects(
      store.db
        .insertInto('users')
        .values({ id: newId('usr'), org_id: 'org_missing', username: 'ghost', password_hash: 'x', password_changed_at: 0, created_at: 0 })
        .execute(),
      /FOREIGN KEY/,
    );
  });

  test('org_keys keeps (org, kind, version) unique and blobs round-trip as bytes', async () => {
    const orgId = newId('org');
    await store.db.insertInto('organisations').values({ id: orgId, name: 'Keys Ltd', name_key: 'keys ltd', created_at: 1 }).execute();
    const row = { org_id: orgId, kind: 'signing', version: 1, public_key: new Uint8Array([1, 2, 3]), wrapped_secret: new Uint8Array([0, 255]), created_at: 1 };
    await store.db
      .insertInto('org_keys')
      .values({ id: `${orgId}.sig.v1`, ...row })
      .execute();
    await assert.rejects(
      store.db
        .insertInto('org_keys')
        .values({ id: `${orgId}.sig.dup`, ...row })
        .execute(),
      /UNIQUE/,
    );
    await assert.rejects(
      store.db
        .insertInto('org_keys')
        .values({ id: `${orgId}.x`, ...row, kind: 'other' })
        .execute(),
      /CHECK/,
    );
    const back = await store.db.selectFrom('org_keys').selectAll().where('org_id', '=', orgId).executeTakeFirstOrThrow();
    assert.ok(back.public_key instanceof Uint8Array);
    assert.deepEqual([...back.wrapped_secret], [0, 255]);
  });

  test('inTransaction rolls back on error and joins an outer transaction', async () => {
    const orgId = newId('org');
    await assert.rejects(
      inTransaction(store, async (trx) => {
        await trx.insertInto('organisations').values({ id: orgId, name: 'Rolled back', name_key: 'rolled back', created_at: 1 }).execute();
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await store.db.selectFrom('organisations').select('id').where('id', '=', orgId).executeTakeFirst(), undefined);

    await store.db.transaction().execute(async (outer) => {
      await inTransaction(outer, async (inner) => {
        assert.equal(inner, outer);
        await setMeta(inner, 'nested', 'ok');
      });
    });
    assert.equal(await getMeta(dbOf(store), 'nested'), 'ok');
  });

  test('ping answers true while open', async () => {
    assert.equal(await store.ping(), true);
  });

  test('writable commits a probe write while open', async () => {
    assert.equal(await store.writable(), true);
    assert.match((await store.getMeta('write_probe_at')) ?? '', /^\d+$/);
  });
});

describe('closing', () => {
  test('close is idempotent; afterwards ping and writable are false and queries fail with StoreClosedError', async () => {
    const store = await openStore({ filename: join(root, 'closing.db') });
    await store.close();
    await store.close();
    assert.equal(await store.ping(), false);
    assert.equal(await store.writable(), false);
    await assert.rejects(store.getMeta('x'), (e: unknown) => e instanceof StoreClosedError && e.code === 'STORE_UNAVAILABLE' && e.reason === 'STORE_CLOSED');
  });
});

describe('ids', () => {
  test('newId is prefix + 20 lowercase base32 characters, unique', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('org')));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.match(id, /^org_[a-z2-7]{20}$/);
  });

  test('random alphabets', () => {
    assert.match(randomBase32(64), /^[a-z2-7]{64}$/);
    assert.match(randomBase62(64), /^[0-9A-Za-z]{64}$/);
    // Every base62 symbol shows up in a long sample (no symbol is unreachable).
    assert.equal(new Set(randomBase62(20_000)).size, 62);
  });
});

describe('two connections writing (the server and its audit writer thread)', () => {
  test('read-then-write transactions wait for the other writer instead of failing with SQLITE_BUSY', async () => {
    const store = await openStore({ dataDir: join(root, 'two-writers') });
    const sink = new ThreadAuditSink(store.filename);
    let appending = true;
    // The other connection commits continuously while this one reads and then writes.
    const writer = (async () => {
      for (let i = 0; appending; i++) await sink.append([failedDecryptEvent(i)]);
    })();
    try {
      for (let i = 0; i < 300; i++) {
        await inTransaction(store, async (trx) => {
          const { rows } = await sql<{ n: number }>`select count(*) as n from audit_records`.execute(trx);
          await new Promise((r) => setImmediate(r));
          await setMeta(trx, 'two-writers', String(rows[0]?.n));
        });
      }
    } finally {
      appending = false;
      await writer;
      await sink.close();
      await store.close();
    }
  });
});

describe('store trouble classification', () => {
  test('the connection adapter throws store trouble as StoreUnavailableError, other driver errors unchanged', () => {
    const connection = openSqliteConnection(':memory:');
    try {
      connection.database.prepare('create table t (x integer unique)').run([]);
      connection.database.prepare('insert into t values (1)').run([]);
      assert.throws(
        () => connection.database.prepare('insert into t values (1)').run([]),
        (e: unknown) => !(e instanceof StoreUnavailableError) && (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE',
      );
      connection.raw.pragma('query_only = ON');
      assert.throws(
        () => connection.database.prepare('insert into t values (2)').run([]),
        (e: unknown) => e instanceof StoreUnavailableError && e.reason === 'SQLITE_READONLY' && (e.cause as { code?: string }).code === 'SQLITE_READONLY',
      );
    } finally {
      connection.close();
    }
  });

  test('SQLite result codes of a full, read-only, failing or locked store are store trouble; request and schema errors are not', async () => {
    const sqliteError = (code: string) => Object.assign(new Error(code), { code });
    for (const code of [
      'SQLITE_FULL',
      'SQLITE_READONLY',
      'SQLITE_READONLY_DBMOVED',
      'SQLITE_IOERR_WRITE',
      'SQLITE_IOERR_FSYNC',
      'SQLITE_CANTOPEN',
      'SQLITE_BUSY_SNAPSHOT',
      'SQLITE_LOCKED',
      'STORE_CLOSED',
    ]) {
      assert.equal(storeUnavailableCode(sqliteError(code)), code, code);
    }
    for (const code of ['SQLITE_ERROR', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CORRUPT', 'SQLITE_FULLX', 'VALIDATION_ERROR']) {
      assert.equal(storeUnavailableCode(sqliteError(code)), undefined, code);
    }
    assert.equal(storeUnavailableCode(new Error('wrapped', { cause: sqliteError('SQLITE_FULL') })), 'SQLITE_FULL');
    assert.equal(storeUnavailableCode(undefined), undefined);
    assert.equal(storeUnavailableCode('SQLITE_FULL'), undefined);
  });
});

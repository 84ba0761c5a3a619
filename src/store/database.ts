import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import { Migrator } from 'kysely/migration';
import { StoreMigrationError, StoreOpenError, StoreUnavailableError } from './errors.js';
import { openSqliteConnection, type SqliteConnection } from './sqlite-connection.js';
import { getMeta, setMeta } from './meta.js';
import { queryLog, type QueryObserver } from './query-observer.js';
import { migrationProvider, SQLITE_COLUMN_TYPES } from './migrations.js';
import type { Store } from '../ports/store.js';
import type { Database } from '../ports/store-schema.js';

/**
 * The SQLite adapter of the store port (src/ports/store.ts): opens the embedded store and brings its
 * schema up to date. This is the only module that knows the engine: everything else talks to
 * `store.db` (Kysely), so a PostgreSQL adapter is another `open…` function returning the same `Store`.
 */

export const DB_FILENAME = 'pqseal.db';

export interface SqliteStore extends Store {
  readonly kind: 'sqlite';
  /** Path of the database file (or `:memory:`). */
  readonly filename: string;
}

export type StoreOptions = { readonly dataDir: string } | { readonly filename: string };

const MIGRATION_ATTEMPTS = 5;
/** The meta row `writable()` rewrites. */
const WRITE_PROBE_KEY = 'write_probe_at';
const MIGRATION_LOCK_TABLE = 'pqseal_migration_lock';

export async function openStore(options: StoreOptions, observeQuery?: QueryObserver): Promise<SqliteStore> {
  const filename = 'dataDir' in options ? join(options.dataDir, DB_FILENAME) : options.filename;
  if ('dataDir' in options) mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  if (filename !== ':memory:') createPrivateFile(filename);

  let connection: SqliteConnection;
  try {
    connection = openSqliteConnection(filename);
  } catch (cause) {
    throw new StoreOpenError(`cannot open the store at ${filename}`, { cause });
  }
  const close = (): void => connection.close();
  const db = new Kysely<Database>({
    dialect: new StoreDialect({ database: connection.database }, () => connection.inTransaction),
    ...queryLog(observeQuery),
  });

  try {
    await migrate(db);
  } catch (error) {
    close();
    throw error;
  }

  return {
    db,
    kind: 'sqlite',
    filename,
    description: filename,
    // One file on one host: SQLite's write lock already serialises what `exclusive` guards.
    exclusive: async (_name, fn) => ({ ran: true, value: await fn() }),
    getMeta: (key) => getMeta(db, key),
    setMeta: (key, value) => setMeta(db, key, value),
    async close() {
      close();
    },
    async ping() {
      if (connection.closed) return false;
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    async writable() {
      if (connection.closed) return false;
      try {
        await db.transaction().execute((trx) => setMeta(trx, WRITE_PROBE_KEY, String(Date.now())));
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** The database file holds password hashes and wrapped keys: owner-only from the first byte. */
function createPrivateFile(filename: string): void {
  try {
    closeSync(openSync(filename, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreOpenError(`cannot create ${filename}`, { cause: error });
  }
}

async function migrate(db: Kysely<Database>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateOnce(db);
      return;
    } catch (error) {
      const cause = error instanceof StoreMigrationError ? error.cause : error;
      // Waiting for another process's migration can outlast busy_timeout; try again a few times.
      if (attempt < MIGRATION_ATTEMPTS && isBusy(cause)) {
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      throw error instanceof StoreMigrationError ? error : new StoreMigrationError('the store schema could not be brought up to date', { cause });
    }
  }
}

/**
 * Kysely's SQLite adapter has no cross-process migration lock, so two processes opening a fresh
 * store (server and CLI) could both run `001_initial`. A write as the first statement of the
 * migration transaction takes SQLite's single write lock before anything is read: the second
 * process waits, then sees the migrations already applied.
 */
async function migrateOnce(db: Kysely<Database>): Promise<void> {
  await db.schema
    .createTable(MIGRATION_LOCK_TABLE)
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('locked_at', 'integer', (c) => c.notNull())
    .execute();
  await db.transaction().execute(async (trx) => {
    await sql`insert or replace into ${sql.table(MIGRATION_LOCK_TABLE)} (id, locked_at) values (1, ${Date.now()})`.execute(trx);
    const { error } = await new Migrator({ db: trx, provider: migrationProvider(SQLITE_COLUMN_TYPES) }).migrateToLatest();
    if (error !== undefined) throw new StoreMigrationError('the store schema could not be brought up to date', { cause: error });
  });
}

function isBusy(error: unknown): boolean {
  const code = error instanceof StoreUnavailableError ? error.reason : (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * Two corrections to Kysely's SQLite dialect:
 *
 * - SQLite runs DDL inside transactions, but Kysely's adapter says it does not, which would make the
 *   Migrator apply each migration without one (a failure halfway would leave half a schema) and
 *   refuse the transaction we hand it.
 * - Kysely begins transactions deferred. With another connection writing to the same file (the audit
 *   writer thread, the CLI), a deferred transaction that reads and then writes fails at once with
 *   SQLITE_BUSY_SNAPSHOT when the other connection committed in between — busy_timeout does not
 *   apply to that case. `begin immediate` takes the write lock first, so it waits like any writer.
 * - On SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY and SQLITE_NOMEM, SQLite may already have rolled the
 *   transaction back itself (https://sqlite.org/lang_transaction.html, "Response To Errors Within A
 *   Transaction"). Kysely's `rollback` then fails with "no transaction is active", and that error —
 *   a plain SQLITE_ERROR, answered as a 500 — replaces the one that says the disk is full.
 */
class StoreDialect extends SqliteDialect {
  constructor(
    private readonly storeConfig: SqliteDialectConfig,
    private readonly inTransaction: () => boolean,
  ) {
    super(storeConfig);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.storeConfig, this.inTransaction);
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateTransactionSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly inTransaction: () => boolean,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.inTransaction()) await super.rollbackTransaction(connection);
  }
}

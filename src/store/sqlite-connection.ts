import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { asStoreError, StoreClosedError } from './errors.js';
import { BetterSqlite3Database } from './sqlite-driver.js';

/**
 * One better-sqlite3 connection (the build for this Node: sqlite-driver.ts) with the store's
 * settings, as Kysely's `SqliteDatabase`. Every connection to the store file (the server's, the
 * audit writer thread's, the CLI's) is opened here, so they all agree on locking and durability.
 */

export interface SqliteConnection {
  /**
   * What Kysely's SqliteDialect takes. Statements after `close()` throw `StoreClosedError`; driver
   * errors that mean the store cannot be used now (disk full, read-only, I/O error, locked) are
   * thrown as `StoreUnavailableError`, so nothing above the store sees a driver's codes.
   */
  readonly database: SqliteDatabase;
  readonly raw: BetterSqlite3.Database;
  readonly closed: boolean;
  /** True while a transaction is open on the connection (SQLite ends one by itself on some errors). */
  readonly inTransaction: boolean;
  close(): void;
}

/**
 * Kysely prepares every query anew (parse + plan, ~5% of the event loop under load): statements are
 * cached by their SQL text. better-sqlite3 statements are recompiled by SQLite itself when the schema
 * changes (sqlite3_prepare_v2), so a cached statement never runs against a stale schema.
 */
const STATEMENT_CACHE_SIZE = 256;

export function openSqliteConnection(filename: string): SqliteConnection {
  const raw = new BetterSqlite3Database(filename);
  try {
    raw.pragma('busy_timeout = 5000');
    const mode = raw.pragma('journal_mode = WAL', { simple: true });
    if (filename !== ':memory:' && mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, expected wal`);
    // FULL: a committed transaction (a new user, a revocation, an audit record) survives power loss, not only a crash.
    raw.pragma('synchronous = FULL');
    raw.pragma('foreign_keys = ON');
  } catch (error) {
    raw.close();
    throw error;
  }

  const statements = new Map<string, SqliteStatement>();
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    statements.clear();
    raw.close();
  };
  // Kysely's own "destroyed" error has no code, and its `begin` bypasses plugins: guarding the
  // connection itself makes every statement after close fail with StoreClosedError (a 503, not a 500).
  const database: SqliteDatabase = {
    close,
    prepare(text) {
      if (closed) throw new StoreClosedError();
      let statement = statements.get(text);
      if (statement) {
        // Least recently used first: re-insert on use.
        statements.delete(text);
      } else {
        statement = classified(prepareClassified(raw, text));
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(text, statement);
      return statement;
    },
  };
  return {
    database,
    raw,
    get closed() {
      return closed;
    },
    get inTransaction() {
      return !closed && raw.inTransaction;
    },
    close,
  };
}

/** The statement, its driver errors classified (`asStoreError`). Iteration is not: Kysely streams through `iterate` only for `.stream()`, which the store does not use. */
function classified(statement: SqliteStatement): SqliteStatement {
  const guard = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      throw asStoreError(error);
    }
  };
  return {
    reader: statement.reader,
    all: (parameters) => guard(() => statement.all(parameters)),
    run: (parameters) => guard(() => statement.run(parameters)),
    iterate: (parameters) => guard(() => statement.iterate(parameters)),
  };
}

function prepareClassified(raw: BetterSqlite3.Database, text: string): SqliteStatement {
  try {
    return raw.prepare(text);
  } catch (error) {
    throw asStoreError(error);
  }
}

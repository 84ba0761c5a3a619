import pg from 'pg';
import { Kysely, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import { ADVISORY_LOCK_NAMESPACE, type Store } from '../../ports/store.js';
import type { Database } from '../../ports/store-schema.js';
import { StoreMigrationError, StoreOpenError } from '../errors.js';
import { getMeta, setMeta } from '../meta.js';
import { migrationProvider, POSTGRES_COLUMN_TYPES } from '../migrations.js';
import { queryLog, type QueryObserver } from '../query-observer.js';
import { ClassifyingPostgresDialect } from './driver.js';

/**
 * The PostgreSQL adapter of the store port (src/ports/store.ts): a `pg` Pool under Kysely's
 * PostgreSQL dialect, the same migrations as SQLite with PostgreSQL's column types, run by one
 * process at a time under an advisory lock.
 */

export interface PostgresStore extends Store {
  readonly kind: 'postgres';
}

export interface PostgresStoreOptions {
  /** `postgres://user[:password]@host[:port]/database[?…]` */
  readonly url: string;
  /** Connections this process opens at most (pg Pool `max`); at least 2. */
  readonly maxConnections: number;
  /** Waiting for a connection (new, or free in the pool) fails after this long: 503. */
  readonly connectTimeoutMs: number;
  /** A statement running longer is cancelled by the server (57014): 503. 0 = no limit. */
  readonly statementTimeoutMs: number;
}

const WRITE_PROBE_KEY = 'write_probe_at';
const INT8_OID = 20;

/** int8 (bigint: timestamps in ms, counters, versions, `count(*)`) as a JS number, like SQLite's integers. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`a bigint column holds ${text}, beyond a JavaScript number's exact range`);
  return value;
}

function poolTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID && format !== 'binary') return parseInt8;
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}

export async function openPostgresStore(options: PostgresStoreOptions, observeQuery?: QueryObserver): Promise<PostgresStore> {
  const description = describeUrl(options.url);
  let closed = false;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'pqseal',
    // A node that vanished mid-transaction (partition, frozen VM) must not hold chain locks for long:
    // TCP keep-alive finds the dead peer, and an idle transaction is ended by the server.
    keepAlive: true,
    ...(options.statementTimeoutMs > 0
      ? {
          statement_timeout: options.statementTimeoutMs,
          lock_timeout: options.statementTimeoutMs,
          idle_in_transaction_session_timeout: 2 * options.statementTimeoutMs,
        }
      : {}),
    // The pool's own parsers, not pg's global ones: other users of `pg` in the process are unaffected.
    types: { getTypeParser: poolTypeParser as typeof pg.types.getTypeParser },
  });
  // An idle connection the server ended (restart, pg_terminate_backend) is dropped by the pool; the
  // next query opens a new one. Without a listener the event would end the process.
  pool.on('error', () => undefined);
  // The same for a connection lost while checked out between two queries: the next query on it fails
  // (classified, 503) and the pool discards it.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new ClassifyingPostgresDialect({ pool }, () => closed), ...queryLog(observeQuery) });

  try {
    await migrate(db);
  } catch (error) {
    closed = true;
    await db.destroy().catch(() => undefined);
    if (error instanceof StoreMigrationError) throw error;
    throw new StoreOpenError(`cannot open the store at ${description}: ${driverMessage(error)}`, { cause: error });
  }

  return {
    db,
    kind: 'postgres',
    description,
    getMeta: (key) => getMeta(db, key),
    setMeta: (key, value) => setMeta(db, key, value),
    exclusive: (name, fn) => exclusive(db, name, fn),
    async close() {
      if (closed) return;
      closed = true;
      // The pool, not Kysely's driver: a query after close then reaches our driver and fails with StoreClosedError.
      await pool.end();
    },
    async ping() {
      if (closed) return false;
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    async writable() {
      if (closed) return false;
      try {
        // Read committed: probes of several nodes rewrite the same row, and at serializable the later one would fail (40001).
        await db
          .transaction()
          .setIsolationLevel('read committed')
          .execute((trx) => setMeta(trx, WRITE_PROBE_KEY, String(Date.now())));
        return true;
      } catch {
        return false;
      }
    },
  };
}

/**
 * Several nodes may start at once on a fresh database: the first takes the session lock and migrates,
 * the others wait for it and then find nothing to do. (Kysely's own migration lock is taken inside the
 * migration transaction, after its table was created: two creators could still collide.)
 */
async function migrate(db: Kysely<Database>): Promise<void> {
  await db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(${ADVISORY_LOCK_NAMESPACE.migrations}, 0)`.execute(conn);
    try {
      const { error } = await new Migrator({ db: conn, provider: migrationProvider(POSTGRES_COLUMN_TYPES) }).migrateToLatest();
      if (error !== undefined) throw new StoreMigrationError('the store schema could not be brought up to date', { cause: error });
    } finally {
      await sql`select pg_advisory_unlock(${ADVISORY_LOCK_NAMESPACE.migrations}, 0)`.execute(conn).catch(() => undefined);
    }
  });
}

/** A session-level advisory lock held on one pooled connection while `fn` runs (on others). */
async function exclusive<T>(db: Kysely<Database>, name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_lock(${ADVISORY_LOCK_NAMESPACE.leader}, hashtext(${name})) as locked`.execute(conn);
    if (rows[0]?.locked !== true) return { ran: false as const };
    try {
      return { ran: true as const, value: await fn() };
    } finally {
      await sql`select pg_advisory_unlock(${ADVISORY_LOCK_NAMESPACE.leader}, hashtext(${name}))`.execute(conn).catch(() => undefined);
    }
  });
}

/** What the driver said (e.g. `connect ECONNREFUSED …`, `database "x" does not exist`): the innermost cause's message. */
function driverMessage(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | null)?.cause;
    if (cause === undefined || cause === null) break;
    current = cause;
  }
  return current instanceof Error ? current.message : String(current);
}

/**
 * The URL for messages and logs: never its password. Not through `new URL`: a password with an
 * unescaped "/" or "?" makes it read the password as host and port and print it. Everything before the
 * last "@" (user and password) is masked, and the query (which may carry `password=`) is dropped.
 */
export function describeUrl(url: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0];
  if (scheme === undefined) return 'postgres (unparseable DATABASE_URL)';
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  const [location = ''] = (at === -1 ? rest : rest.slice(at + 1)).split('?');
  return `${scheme}${at === -1 ? '' : '***@'}${location}`;
}

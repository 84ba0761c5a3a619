import { Kysely, PostgresAdapter, type Transaction } from 'kysely';
import { StoreUnavailableError } from './store-errors.js';
import type { Database } from './store-schema.js';

/**
 * Port: the store. A Kysely handle over the schema of src/ports/store-schema.ts, with transactions
 * (`inTransaction`); store failures are classified in src/store/errors.ts. Today's adapter is SQLite
 * (src/store/database.ts, `openStore`) and PostgreSQL (src/store/postgres/, `openPostgresStore`).
 */
export type StoreKind = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  /** Where the store is, for messages: the database file, or the PostgreSQL URL without its password. */
  readonly description: string;
  /**
   * Runs `fn` unless another process holds the lock `name` (then resolves `{ ran: false }`): e.g. one
   * node at a time signs audit checkpoints. SQLite: one file, one host, `fn` always runs.
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /** Idempotent; queries made afterwards fail with `StoreClosedError` (a `StoreUnavailableError`, reason `STORE_CLOSED`). */
  close(): Promise<void>;
  /** True when a trivial query succeeds. Never throws. */
  ping(): Promise<boolean>;
  /**
   * True when a write can be committed now: one upsert of a meta row in its own transaction, so a
   * full disk or a read-only file shows (a read would still succeed). Never throws.
   */
  writable(): Promise<boolean>;
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

/**
 * What repositories accept: the open `Store`, or a Kysely handle — typically a transaction, so a
 * caller can make several repository calls atomically (e.g. organisation + user + credentials).
 */
export type StoreHandle = Pick<Store, 'db'> | Kysely<Database>;

export function dbOf(handle: StoreHandle): Kysely<Database> {
  return handle instanceof Kysely ? handle : handle.db;
}

/**
 * Runs `fn` in a transaction, or directly inside the caller's one (Kysely has no nested transactions).
 * A transaction is serialisable on every engine (SQLite: one writer at a time; PostgreSQL: isolation
 * level serializable), and one that lost a conflict (serialization failure, deadlock) is run again
 * from the start: `fn` must only touch the store.
 */
export async function inTransaction<T>(handle: StoreHandle, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  const db = dbOf(handle);
  if (db.isTransaction) return fn(db);
  return retryingConflicts(() => db.transaction().execute((trx: Transaction<Database>) => fn(trx)));
}

/** SQLSTATEs of a transaction that lost to a concurrent one and may simply be run again. */
const CONFLICT_REASONS: ReadonlySet<string> = new Set(['40001', '40P01']);
const CONFLICT_ATTEMPTS = 10;

export function isConflict(error: unknown): boolean {
  return error instanceof StoreUnavailableError && CONFLICT_REASONS.has(error.reason);
}

/** Runs a whole transaction again (up to 10 times, with jittered exponential back-off) while it fails with a conflict. */
export async function retryingConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= CONFLICT_ATTEMPTS || !isConflict(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 2 ** attempt)));
    }
  }
}

/**
 * PostgreSQL advisory locks are keyed (namespace, key): each use of them in pqseal has its namespace
 * ('pqs' + a letter, as int4), so none can collide with another's keys.
 */
export const ADVISORY_LOCK_NAMESPACE = {
  /** Key 0: the schema migrations. */
  migrations: 0x7071_734d,
  /** Key hashtext(name): `Store.exclusive`. */
  leader: 0x7071_734c,
  /** Key hashtext(chain id): appends and checkpoints of one audit chain. */
  auditChain: 0x7071_7341,
} as const;

/** The engine behind a Kysely handle, for the few statements that differ (e.g. PostgreSQL's advisory locks). */
export function engineOf(db: Kysely<Database>): StoreKind {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

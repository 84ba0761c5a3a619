import { Kysely, type Transaction } from 'kysely';
import type { Database } from './store-schema.js';

/**
 * Port: the store. A Kysely handle over the schema of src/ports/store-schema.ts, with transactions
 * (`inTransaction`); store failures are classified in src/store/errors.ts. Today's adapter is SQLite
 * (src/store/database.ts, `openStore`); PostgreSQL (issue 12) is another `open…` returning a `Store`.
 */
export interface Store {
  readonly db: Kysely<Database>;
  /** Path of the database file (or `:memory:`). */
  readonly filename: string;
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

/** Runs `fn` in a transaction, or directly inside the caller's one (Kysely has no nested transactions). */
export async function inTransaction<T>(handle: StoreHandle, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  const db = dbOf(handle);
  if (db.isTransaction) return fn(db);
  return db.transaction().execute((trx: Transaction<Database>) => fn(trx));
}

import { Kysely, type Transaction } from 'kysely';
import type { Store } from '../store/database.js';
import type { Database } from './store-schema.js';

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

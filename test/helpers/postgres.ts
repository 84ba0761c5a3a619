import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Databases of their own for tests, on the PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth;
 * PQSEAL_TEST_POSTGRES_URL overrides). Each gets a random name and is dropped — its connections
 * terminated first — by `drop()`, or when the test process is about to exit.
 */

export const ADMIN_URL = process.env.PQSEAL_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** `npm test`'s postgres tier sets it: test servers then run on a fresh PostgreSQL database. */
export const TEST_ON_POSTGRES = process.env.PQSEAL_TEST_DATABASE === 'postgres';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const live = new Set<TestDatabase>();
let cleaning = false;
process.on('beforeExit', () => {
  if (cleaning || live.size === 0) return;
  cleaning = true;
  void Promise.all([...live].map((d) => d.drop().catch(() => undefined)));
});

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `pqseal_test_${randomBytes(8).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const database: TestDatabase = {
    name,
    url: url.toString(),
    drop() {
      live.delete(database);
      dropped ??= admin(async (c) => {
        await c.query(`drop database if exists ${name} with (force)`);
      });
      return dropped;
    },
  };
  live.add(database);
  return database;
}

/** A random master key (64 hex), as PQSEAL_MASTER_KEY: nodes sharing a database must share it. */
export function randomMasterKey(): string {
  return randomBytes(32).toString('hex');
}

/**
 * For `test(name, { skip: sqliteOnly('…') }, fn)`: a test that works on the SQLite file itself
 * (fault injection with triggers, reading or editing pqseal.db) is skipped in the postgres tier,
 * with the reason it gives.
 */
export function sqliteOnly(reason: string): string | false {
  return TEST_ON_POSTGRES ? `SQLite only: ${reason}` : false;
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteConnection } from '../src/store/sqlite-connection.js';

/**
 * Driver check, run by .ci/run on every supported Node: tens of thousands of prepared statements go
 * out of the statement cache and are left to the garbage collector while the process idles. With
 * better-sqlite3 12 on Node 24 the first collection that finalizes one aborts the process
 * (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook, src/store/sqlite-driver.ts).
 * Exits 0 and prints the Node version when the process survived.
 */

const STATEMENTS = 20_000;
const IDLE_MS = 3_000;

const dir = mkdtempSync(join(tmpdir(), 'pqseal-sqlite-gc-'));
try {
  const connection = openSqliteConnection(join(dir, 'gc.db'));
  connection.raw.exec('create table t (id integer primary key, v text)');
  let garbage: number[][] = [];
  for (let i = 0; i < STATEMENTS; i++) {
    // Distinct SQL text: each one is a new statement, and the cache (256) drops the older ones.
    connection.database.prepare(`select v from t where id = ${i}`);
    garbage.push(new Array<number>(64).fill(i));
    if (garbage.length > 1_000) garbage = [];
  }
  await sleep(IDLE_MS);
  connection.close();
  console.log(`sqlite statement GC survived on Node ${process.version}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

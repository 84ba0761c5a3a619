import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BetterSqlite3Database, SQLITE_DRIVER_PACKAGE } from '../src/store/sqlite-driver.js';

/**
 * The store's two hot paths on one SQLite driver, with the store's settings (WAL, synchronous=FULL):
 * a primary-key select through a prepared statement (main thread) and a 32-record audit batch in one
 * `begin immediate` transaction (the audit writer thread's chain-appender.ts). docs/performance.md,
 * "SQLite driver per Node version", has the comparison.
 *
 *   node dist/bench/sqlite-drivers.js [store | node:sqlite | <path of a better-sqlite3-compatible module, e.g. libsql>]
 *
 * `store` (default) is the driver the store uses on this Node (src/store/sqlite-driver.ts).
 */

interface Statement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}
interface Connection {
  exec(sql: string): void;
  prepare(sql: string): Statement;
  close(): void;
}

async function open(driver: string, file: string): Promise<Connection> {
  if (driver === 'node:sqlite') {
    const { DatabaseSync } = (await import('node:' + 'sqlite')) as { DatabaseSync: new (file: string) => Connection };
    return new DatabaseSync(file);
  }
  const Database = driver === 'store' ? BetterSqlite3Database : (createRequire(import.meta.url)(driver) as new (file: string) => Connection);
  return new Database(file);
}

const COLUMNS = [
  'chain_id',
  'seq',
  'at',
  'request_id',
  'org_id',
  'user_id',
  'credential_id',
  'operation',
  'via',
  'envelope_id',
  'envelope_owner_id',
  'partner_ids',
  'outcome',
  'error_code',
  'http_status',
  'client_address',
  'hash',
];
const INTEGER_COLUMNS = new Set(['seq', 'at', 'http_status']);
const SELECTS = 200_000;
const BATCH = 32;
const BATCHES = 300;

const driver = process.argv[2] ?? 'store';
const dir = mkdtempSync(join(tmpdir(), 'pqseal-sqlite-bench-'));
const db = await open(driver, join(dir, 'bench.db'));
db.exec('pragma busy_timeout = 5000; pragma journal_mode = WAL; pragma synchronous = FULL');
db.exec('create table orgs (id text primary key, name text not null, created_at integer not null, key_id text)');
db.exec(`create table audit_records (${COLUMNS.map((c) => `${c} ${INTEGER_COLUMNS.has(c) ? 'integer' : 'text'}`).join(', ')}, primary key (chain_id, seq))`);
db.exec('create table audit_heads (chain_id text primary key, seq integer not null, hash text not null)');

const ids = Array.from({ length: 2_000 }, () => randomUUID());
const insertOrg = db.prepare('insert into orgs (id, name, created_at, key_id) values (?, ?, ?, ?)');
db.exec('begin');
ids.forEach((id, i) => insertOrg.run(id, `org ${i}`, Date.now(), randomUUID()));
db.exec('commit');

const select = db.prepare('select id, name, created_at, key_id from orgs where id = ?');
const selectOnce = (i: number): void => {
  if (!select.get(ids[(i * 7919) % ids.length])) throw new Error('row missing');
};
for (let i = 0; i < SELECTS / 10; i++) selectOnce(i);
let started = process.hrtime.bigint();
for (let i = 0; i < SELECTS; i++) selectOnce(i);
const selectMicros = Number(process.hrtime.bigint() - started) / 1_000 / SELECTS;

const insertRecord = db.prepare(`insert into audit_records (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => `@${c}`).join(', ')})`);
const readHead = db.prepare('select seq, hash from audit_heads where chain_id = ?');
const writeHead = db.prepare(
  'insert into audit_heads (chain_id, seq, hash) values (?, ?, ?) on conflict (chain_id) do update set seq = excluded.seq, hash = excluded.hash',
);
const chains = Array.from({ length: 8 }, () => randomUUID());
const appendBatch = (b: number): void => {
  db.exec('begin immediate');
  try {
    const heads = new Map<string, { seq: number; hash: string }>();
    for (let i = 0; i < BATCH; i++) {
      const chain = chains[(b + i) % chains.length] as string;
      const head = heads.get(chain) ?? (readHead.get(chain) as { seq: number; hash: string } | undefined) ?? { seq: 0, hash: '' };
      const next = { seq: Number(head.seq) + 1, hash: randomBytes(32).toString('hex') };
      heads.set(chain, next);
      insertRecord.run({
        chain_id: chain,
        seq: next.seq,
        at: Date.now(),
        request_id: randomUUID(),
        org_id: chain,
        user_id: null,
        credential_id: randomUUID(),
        operation: 'sign-encrypt',
        via: 'managed',
        envelope_id: randomUUID(),
        envelope_owner_id: chain,
        partner_ids: '[]',
        outcome: 'success',
        error_code: null,
        http_status: 200,
        client_address: '127.0.0.1',
        hash: next.hash,
      });
    }
    for (const [chain, head] of heads) writeHead.run(chain, head.seq, head.hash);
    db.exec('commit');
  } catch (error) {
    db.exec('rollback');
    throw error;
  }
};
for (let b = 0; b < 20; b++) appendBatch(b);
const cpuBefore = process.cpuUsage();
started = process.hrtime.bigint();
for (let b = 0; b < BATCHES; b++) appendBatch(b);
const batchWallMs = Number(process.hrtime.bigint() - started) / 1e6 / BATCHES;
const cpu = process.cpuUsage(cpuBefore);
db.close();
rmSync(dir, { recursive: true, force: true });

const name = driver === 'store' ? SQLITE_DRIVER_PACKAGE : driver;
console.log(
  JSON.stringify({
    node: process.version,
    driver: name,
    selectMicros: +selectMicros.toFixed(2),
    batch32WallMs: +batchWallMs.toFixed(3),
    batch32CpuMs: +((cpu.user + cpu.system) / 1_000 / BATCHES).toFixed(3),
  }),
);

import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { sql } from 'kysely';
import { DB_FILENAME, openStore } from './database.js';
import { migrationProvider, SQLITE_COLUMN_TYPES } from './migrations.js';
import { openSqliteConnection } from './sqlite-connection.js';
import { BetterSqlite3Database } from './sqlite-driver.js';

/**
 * Online backup and restore of the SQLite store. A backup is `VACUUM INTO`: one read transaction, so
 * a consistent snapshot of the committed state (the WAL included — copying pqseal.db alone loses what
 * is still in the WAL) while the server keeps writing. The master key is never in the store, so never
 * in a backup: it is backed up separately (docs/deployment.md).
 */

/** The operator asked for something we refuse to do (exit 2). */
export class BackupRefusedError extends Error {
  readonly code = 'BACKUP_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'BackupRefusedError';
  }
}

/** The file is damaged, not a pqseal store, or from a newer pqseal (exit 4). */
export class BackupInvalidError extends Error {
  readonly code = 'BACKUP_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'BackupInvalidError';
  }
}

export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  /** The newest schema migration in the snapshot. */
  readonly schema: string;
}

/** Writes a snapshot of `<dataDir>/pqseal.db` to `out` (mode 0600); refuses an existing `out`. */
export async function backupStore(dataDir: string, out: string): Promise<BackupSummary> {
  const source = join(dataDir, DB_FILENAME);
  if (!existsSync(source)) throw new BackupRefusedError(`no store at ${source} (is DATA_DIR right?)`);
  if (anythingAt(out)) throw new BackupRefusedError(`${out} already exists; refusing to overwrite it`);

  // Written beside the target, checked, then linked into place: link(2) fails if `out` appeared
  // meanwhile, so an existing file is never replaced, and `out` is never a half-written snapshot.
  const temporary = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    closeSync(openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600));
    const connection = openSqliteConnection(source);
    try {
      connection.raw.prepare('vacuum into ?').run(temporary);
    } finally {
      connection.close();
    }
    syncFile(temporary);
    const summary = await checkSnapshot(temporary);
    try {
      linkSync(temporary, out);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupRefusedError(`${out} already exists; refusing to overwrite it`);
      throw e;
    }
    syncDirectory(dirname(out));
    return { ...summary, file: out };
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Restores a backup into an empty (or missing) DATA_DIR: copied to a temporary file there, checked
 * (integrity, pqseal schema, not newer than this build), then renamed to pqseal.db. The one file
 * DATA_DIR may already hold is `allowed` (the master key file, put back before the store).
 */
export async function restoreStore(from: string, dataDir: string, allowed: readonly string[]): Promise<BackupSummary> {
  if (!existsSync(from)) throw new BackupRefusedError(`no backup at ${from}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const present = readdirSync(dataDir).filter((name) => !allowed.includes(name));
  if (present.length > 0) {
    throw new BackupRefusedError(`${dataDir} is not empty (${present.slice(0, 5).join(', ')}); restore only into an empty DATA_DIR`);
  }
  const target = join(dataDir, DB_FILENAME);
  const temporary = join(dataDir, `.${DB_FILENAME}.${randomBytes(6).toString('hex')}.restoring`);
  try {
    closeSync(openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
    copyFileSync(from, temporary);
    // copyFileSync gives the copy the backup file's mode; the store holds password hashes and wrapped keys.
    chmodSync(temporary, 0o600);
    syncFile(temporary);
    const summary = await checkSnapshot(temporary);
    renameSync(temporary, target);
    syncDirectory(dataDir);
    return { ...summary, file: target };
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Takes a restored store out of `dataDir` again (its keys turned out not to open with the master key). */
export function removeRestoredStore(dataDir: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dataDir, `${DB_FILENAME}${suffix}`), { force: true });
}

/** `pragma integrity_check`, the pqseal tables, and migrations this build knows, all of them applied. */
async function checkSnapshot(file: string): Promise<Omit<BackupSummary, 'file'>> {
  const known = Object.keys(await migrationProvider(SQLITE_COLUMN_TYPES).getMigrations()).sort();
  // A plain connection: the store's settings (WAL) would rewrite the file being checked.
  const raw = new BetterSqlite3Database(file, { fileMustExist: true });
  try {
    let integrity: unknown[];
    try {
      integrity = raw.pragma('integrity_check', { simple: false }) as unknown[];
    } catch (cause) {
      throw new BackupInvalidError(`the backup is not a readable SQLite database: ${(cause as Error).message}`);
    }
    const problems = integrity.map((row) => Object.values(row as Record<string, unknown>)[0]).filter((v) => v !== 'ok');
    if (problems.length > 0) throw new BackupInvalidError(`the backup fails its integrity check: ${problems.slice(0, 3).join('; ')}`);
    const tables = new Set((raw.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[]).map((r) => r.name));
    for (const table of ['kysely_migration', 'organisations', 'org_keys', 'audit_records', 'meta']) {
      if (!tables.has(table)) throw new BackupInvalidError(`the backup is not a pqseal store (no table ${table})`);
    }
    // Nothing but pqseal's own tables and indexes: a trigger (say, one that deletes every revocation
    // as it is inserted), a view or an extra table in a crafted backup would run inside the service.
    const expected = await schemaObjects();
    const foreign = (raw.prepare(`select type, name from sqlite_master where name not like 'sqlite_%'`).all() as SchemaObject[]).filter(
      (o) => !expected.has(`${o.type} ${o.name}`),
    );
    if (foreign.length > 0) {
      throw new BackupInvalidError(
        `the backup holds objects that are not pqseal's schema (${foreign
          .slice(0, 5)
          .map((o) => `${o.type} ${o.name}`)
          .join(', ')}); refusing it`,
      );
    }
    const applied = (raw.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name);
    const unknown = applied.filter((name) => !known.includes(name));
    if (unknown.length > 0)
      throw new BackupInvalidError(`the backup comes from a newer pqseal (schema ${unknown.join(', ')}); restore it with that version or later`);
    const schema = applied.at(-1) ?? '';
    const pageCount = raw.pragma('page_count', { simple: true }) as number;
    const pageSize = raw.pragma('page_size', { simple: true }) as number;
    return { bytes: pageCount * pageSize, schema };
  } finally {
    raw.close();
  }
}

interface SchemaObject {
  readonly type: string;
  readonly name: string;
}

/** Every table and index of this build's schema (migrations add, never drop: older schemas are subsets). */
async function schemaObjects(): Promise<Set<string>> {
  const fresh = await openStore({ filename: ':memory:' });
  try {
    const { rows } = await sql<SchemaObject>`select type, name from sqlite_master where name not like 'sqlite_%'`.execute(fresh.db);
    return new Set(rows.map((o) => `${o.type} ${o.name}`));
  } finally {
    await fresh.close();
  }
}

/** Anything at `path`, a dangling symbolic link included (which `existsSync` does not see). */
function anythingAt(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(path: string): void {
  try {
    syncFile(path);
  } catch {
    // Some file systems refuse fsync on a directory; the data itself is synced.
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { MASTER_KEY_FILE } from '../keys/master-key.js';
import { openServices } from '../services.js';
import { backupStore, BackupInvalidError, BackupRefusedError, removeRestoredStore, restoreStore, type BackupSummary } from '../store/backup.js';

/** `pqseal backup --out FILE` and `pqseal restore --from FILE` (SQLite; PostgreSQL has pg_dump). */

const EXIT_REFUSED = 2;
const EXIT_INVALID = 4;

const BACKUP_USAGE = `pqseal backup --out FILE [--json]
  A consistent snapshot of the SQLite store in DATA_DIR, taken while the server runs (mode 0600;
  an existing FILE is never overwritten). The master key is NOT in it: back it up separately.`;
const RESTORE_USAGE = `pqseal restore --from FILE [--json]
  Restores a backup into an empty DATA_DIR (it may already hold master.key), after checking its
  integrity and that it is a pqseal store. Start the server with the master key of the backed-up store.`;

const PG_DUMP_HINT =
  'DATABASE_URL is set: the store is PostgreSQL, which pqseal backup does not copy. Use pg_dump -Fc "$DATABASE_URL" -f pqseal.dump and pg_restore (docs/deployment.md, "Backup and restore")';

const options = { json: { type: 'boolean' }, help: { type: 'boolean' }, out: { type: 'string' }, from: { type: 'string' } } as const;

export async function backupCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args, options, strict: true });
  if (values.help) return usage(BACKUP_USAGE);
  return guarded(async () => {
    if (process.env.DATABASE_URL) throw new BackupRefusedError(PG_DUMP_HINT);
    if (!values.out) throw new BackupRefusedError('--out FILE is required');
    const summary = await backupStore(config.dataDir, values.out);
    report(
      summary,
      values.json,
      `Backed up the store (${summary.bytes} bytes, schema ${summary.schema}) to ${summary.file} (mode 0600).\nThe master key is not in the backup: keep PQSEAL_MASTER_KEY (or ${join(config.dataDir, MASTER_KEY_FILE)}) safe separately; without it the backup opens nothing.`,
    );
  });
}

export async function restoreCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseArgs({ args, options, strict: true });
  if (values.help) return usage(RESTORE_USAGE);
  return guarded(async () => {
    if (process.env.DATABASE_URL) throw new BackupRefusedError(PG_DUMP_HINT.replace('pqseal backup does not copy', 'pqseal restore does not fill'));
    if (!values.from) throw new BackupRefusedError('--from FILE is required');
    const summary = await restoreStore(values.from, config.dataDir, [MASTER_KEY_FILE]);
    const haveMasterKey = Boolean(config.masterKey) || existsSync(join(config.dataDir, MASTER_KEY_FILE));
    if (haveMasterKey) await checkMasterKeyOpens(config);
    const keyHint = haveMasterKey
      ? ' The master key opens its keys.'
      : `\nNo master key yet: set PQSEAL_MASTER_KEY, or put the backed-up master.key (mode 0600) in ${config.dataDir}, before starting the server.`;
    report(summary, values.json, `Restored ${summary.file} (schema ${summary.schema}) from ${values.from}.${keyHint}`);
  });
}

/**
 * Opens the restored store as the CLI does, which unwraps its JWT signing keys with the master key:
 * a wrong key takes the store out again, so the operator does not find out only when the server
 * refuses to start (having made a master.key of its own).
 */
async function checkMasterKeyOpens(config: Config): Promise<void> {
  try {
    const services = await openServices(config, { workers: false });
    await services.close();
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'JWT_KEY_UNAVAILABLE') throw e;
    removeRestoredStore(config.dataDir);
    throw new BackupInvalidError(`the master key does not open the keys in this backup (${(e as Error).message}); the restored store was removed again`);
  }
}

function usage(text: string): number {
  process.stdout.write(`Usage: ${text}\n`);
  return 0;
}

function report(summary: BackupSummary, json: boolean | undefined, human: string): void {
  process.stdout.write(json ? `${JSON.stringify({ file: summary.file, bytes: summary.bytes, schema: summary.schema })}\n` : `${human}\n`);
}

async function guarded(run: () => Promise<void>): Promise<number> {
  try {
    await run();
    return 0;
  } catch (e) {
    if (e instanceof BackupRefusedError || e instanceof BackupInvalidError) {
      process.stderr.write(`pqseal: ${e.message}\n`);
      return e instanceof BackupRefusedError ? EXIT_REFUSED : EXIT_INVALID;
    }
    throw e;
  }
}

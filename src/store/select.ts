import type { Config } from '../config.js';
import { openStore, type SqliteStore } from './database.js';
import { openPostgresStore, type PostgresStore } from './postgres/open.js';
import type { QueryObserver } from './query-observer.js';

/** The store the configuration names: PostgreSQL when DATABASE_URL is set, else the SQLite file in DATA_DIR. */
export function selectStore(config: Config, observeQuery?: QueryObserver): Promise<SqliteStore | PostgresStore> {
  if (config.databaseUrl === undefined) return openStore({ dataDir: config.dataDir }, observeQuery);
  return openPostgresStore(
    {
      url: config.databaseUrl,
      maxConnections: config.databasePoolMax,
      connectTimeoutMs: config.databaseConnectTimeoutMs,
      statementTimeoutMs: config.databaseStatementTimeoutMs,
    },
    observeQuery,
  );
}

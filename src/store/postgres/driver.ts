import { PostgresDialect, type DatabaseConnection, type Driver, type PostgresDialectConfig, type TransactionSettings } from 'kysely';
import { StoreClosedError } from '../errors.js';
import { asPostgresStoreError } from './errors.js';

/**
 * Kysely's PostgreSQL dialect with two changes made at the driver, the one place every query passes:
 *
 * - driver errors that mean "cannot serve now" (connection lost or refused, disk full, serialization
 *   failure, timeout …) are thrown as `StoreUnavailableError` (errors.ts), so nothing above the store
 *   sees a SQLSTATE, and after `close()` every query fails with `StoreClosedError`;
 * - a transaction without an explicit isolation level is `serializable`: the other engine (SQLite)
 *   runs one writer at a time, and code written against it (read a row, then write from it) must not
 *   lose updates here. Conflicts surface as 40001 and `inTransaction` runs the transaction again.
 */
export class ClassifyingPostgresDialect extends PostgresDialect {
  constructor(
    config: PostgresDialectConfig,
    private readonly isClosed: () => boolean,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new ClassifyingDriver(super.createDriver(), this.isClosed);
  }
}

class ClassifyingDriver implements Driver {
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly driver: Driver,
    private readonly isClosed: () => boolean,
  ) {}

  init(): Promise<void> {
    return this.guard(() => this.driver.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.isClosed()) throw new StoreClosedError();
    const connection = await this.guard(() => this.driver.acquireConnection());
    const wrapped: DatabaseConnection = {
      executeQuery: (query, options) => this.guard(() => connection.executeQuery(query, options)),
      streamQuery: (query, chunkSize, options) => connection.streamQuery(query, chunkSize, options),
    };
    this.inner.set(wrapped, connection);
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const isolationLevel = settings.isolationLevel ?? 'serializable';
    return this.guard(() => this.driver.beginTransaction(this.unwrap(connection), { ...settings, isolationLevel }));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.guard(() => this.driver.commitTransaction(this.unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.guard(() => this.driver.rollbackTransaction(this.unwrap(connection)));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(this.unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }

  private unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.inner.get(connection) ?? connection;
  }

  private async guard<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw asPostgresStoreError(error);
    }
  }
}

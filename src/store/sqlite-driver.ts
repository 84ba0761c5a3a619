import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * The SQLite driver for the Node that runs us: better-sqlite3 12 on Node 20, better-sqlite3 13 on
 * Node 22 and later (package alias `better-sqlite3-node22`). Same API, same SQLite, same error codes.
 *
 * - 12 aborts Node 24: its objects subclass the raw `node::ObjectWrap`, whose destructor on Node 24
 *   removes an environment cleanup hook, and V8 runs that destructor from garbage collections with
 *   no JavaScript context entered (`Assertion failed: (env) != nullptr`, RemoveEnvironmentCleanupHook).
 * - 13 (Node-API, prebuilt binaries shipped in the package) requires Node 22 and crashes Node 20.
 *
 * Measured against libsql and node:sqlite in docs/performance.md ("SQLite driver per Node version").
 */

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

export const SQLITE_DRIVER_PACKAGE = NODE_MAJOR >= 22 ? 'better-sqlite3-node22' : 'better-sqlite3';

function load(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)(SQLITE_DRIVER_PACKAGE) as typeof BetterSqlite3;
  } catch (cause) {
    // better-sqlite3 12 is an optional dependency (npm skips it when its native build fails).
    throw new Error(
      `the SQLite driver ${SQLITE_DRIVER_PACKAGE} for Node ${process.versions.node} could not be loaded; run npm ci with this Node (Node 20 builds better-sqlite3 12 from source when no prebuilt binary can be downloaded)`,
      { cause },
    );
  }
}

export const BetterSqlite3Database: typeof BetterSqlite3 = load();

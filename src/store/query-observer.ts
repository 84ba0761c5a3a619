import type { KyselyConfig, LogEvent } from 'kysely';

/** Told how long each query through Kysely took (metrics); `kind` is its statement: select, insert, … */
export type QueryObserver = (kind: string, seconds: number, failed: boolean) => void;

const STATEMENT_KINDS = new Set(['select', 'insert', 'update', 'delete', 'begin', 'commit', 'rollback', 'with']);

/** A bounded label for a query: its first keyword when it is a common one. */
function statementKind(text: string): string {
  const word = /^\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase() ?? '';
  return STATEMENT_KINDS.has(word) ? word : 'other';
}

/** Kysely's `log` option reporting to `observeQuery` (none without one); the same for every store adapter. */
export function queryLog(observeQuery: QueryObserver | undefined): Pick<KyselyConfig, 'log'> {
  if (!observeQuery) return {};
  return { log: (event: LogEvent) => observeQuery(statementKind(event.query.sql), event.queryDurationMillis / 1000, event.level === 'error') };
}

import { sql, type Kysely } from 'kysely';
import { ADVISORY_LOCK_NAMESPACE, engineOf, retryingConflicts } from '../ports/store.js';
import type { Database } from '../ports/store-schema.js';
import { chainEvents, chainOf, fromRow, toRow, type AuditEvent, type AuditRecord, type ChainHead } from './record.js';

/**
 * Appending to the hash chains. Heads are read inside the same write transaction that appends, after
 * the chains are locked: on SQLite the transaction holds the write lock from its first statement
 * (`begin immediate`, src/store/database.ts); on PostgreSQL `lockChains` takes a transaction-scoped
 * advisory lock per chain. A second process or node appending at the same time waits instead of
 * forking a chain.
 */

/**
 * Runs `fn` in a write transaction. Use it for every write that appends audit records, so the record
 * and the state change it describes commit (or roll back) together. PostgreSQL: read committed, so
 * the heads read after `lockChains` are the ones the previous holder committed (a serializable
 * snapshot would be taken before the lock wait); a deadlock is run again from the start.
 */
export async function writeTransaction<T>(db: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  return retryingConflicts(() => db.transaction().setIsolationLevel('read committed').execute(fn));
}

/**
 * Serialises writers of these chains until the transaction ends (PostgreSQL; on SQLite the
 * transaction's write lock already does). Locks are taken in one order, so two batches never deadlock.
 */
export async function lockChains(trx: Kysely<Database>, chainIds: readonly string[]): Promise<void> {
  if (engineOf(trx) !== 'postgres' || chainIds.length === 0) return;
  const sorted = [...new Set(chainIds)].sort();
  await sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_NAMESPACE.auditChain}, k) from (select distinct hashtext(c) as k from unnest(${sorted}::text[]) as c order by k) as keys`.execute(
    trx,
  );
}

/** 17 columns per row: stay far below SQLite's bound-parameter limit. */
const INSERT_CHUNK = 200;

/** Appends the events in order; call inside `writeTransaction`. Returns the records as stored. */
export async function appendRecords(trx: Kysely<Database>, events: readonly AuditEvent[]): Promise<AuditRecord[]> {
  if (events.length === 0) return [];
  const chains = [...new Set(events.map(chainOf))];
  await lockChains(trx, chains);
  const stored = new Map<string, ChainHead>();
  const rows = await trx.selectFrom('audit_heads').select(['chain_id', 'seq', 'hash']).where('chain_id', 'in', chains).execute();
  for (const row of rows) stored.set(row.chain_id, { seq: Number(row.seq), hash: row.hash });
  const { records, heads } = chainEvents(events, (chainId) => stored.get(chainId));

  for (let i = 0; i < records.length; i += INSERT_CHUNK) {
    const chunk = records.slice(i, i + INSERT_CHUNK);
    await trx
      .insertInto('audit_records')
      .values(chunk.map((r, j) => toRow(r, (events[i + j] as AuditEvent).at)))
      .execute();
  }
  await trx
    .insertInto('audit_heads')
    .values([...heads].map(([chainId, head]) => ({ chain_id: chainId, seq: head.seq, hash: head.hash })))
    .onConflict((oc) => oc.column('chain_id').doUpdateSet((eb) => ({ seq: eb.ref('excluded.seq'), hash: eb.ref('excluded.hash') })))
    .execute();
  return records;
}

export async function chainHeads(db: Kysely<Database>, chainId?: string): Promise<{ chainId: string; seq: number; hash: string }[]> {
  let q = db.selectFrom('audit_heads').select(['chain_id', 'seq', 'hash']).orderBy('chain_id');
  if (chainId !== undefined) q = q.where('chain_id', '=', chainId);
  return (await q.execute()).map((r) => ({ chainId: r.chain_id, seq: Number(r.seq), hash: r.hash }));
}

/** Every chain id that has records or a head (a chain whose records were all deleted still has a head). */
export async function chainIds(db: Kysely<Database>): Promise<string[]> {
  const heads = await db.selectFrom('audit_heads').select('chain_id').execute();
  const recorded = await db.selectFrom('audit_records').select('chain_id').distinct().execute();
  // Sorted here, by code unit, so the order is the same on every engine whatever its collation.
  return [...new Set([...heads, ...recorded].map((r) => r.chain_id))].sort();
}

/** Records of one chain in seq order, read in pages so a long chain never sits in memory at once. */
export async function* chainRecords(db: Kysely<Database>, chainId: string, fromSeq = 1, pageSize = 2000): AsyncGenerator<AuditRecord> {
  let after = fromSeq - 1;
  for (;;) {
    const rows = await db
      .selectFrom('audit_records')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of rows) yield fromRow(row);
    if (rows.length < pageSize) return;
    after = Number((rows[rows.length - 1] as { seq: number }).seq);
  }
}

export async function recordAt(db: Kysely<Database>, chainId: string, seq: number): Promise<AuditRecord | undefined> {
  const row = await db.selectFrom('audit_records').selectAll().where('chain_id', '=', chainId).where('seq', '=', seq).executeTakeFirst();
  return row && fromRow(row);
}

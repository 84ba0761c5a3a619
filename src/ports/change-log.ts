import type { Kysely } from 'kysely';
import { changeSubject, type ChangeEvent } from './invalidation.js';
import type { Database } from './store-schema.js';

/**
 * Records `event` in the store's change log, inside the caller's transaction, so the row commits with
 * the change or not at all. Every serving process polls the log (src/store/change-log-poller.ts).
 */
export async function recordChange(trx: Kysely<Database>, event: ChangeEvent, at: number = Date.now()): Promise<void> {
  await trx
    .insertInto('changes')
    .values({ kind: event.type, subject: changeSubject(event), at })
    .execute();
}

import { dbOf, type StoreHandle } from '../ports/store.js';

/** Small key/value settings of the installation (e.g. "demo organisation created"). */

export async function getMeta(store: StoreHandle, key: string): Promise<string | undefined> {
  const row = await dbOf(store).selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function setMeta(store: StoreHandle, key: string, value: string): Promise<void> {
  await dbOf(store)
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}

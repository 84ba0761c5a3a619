import type { Kysely } from 'kysely';
import { recordChange } from '../ports/change-log.js';
import { identityEvents } from '../ports/invalidation.js';
import { dbOf, inTransaction, type StoreHandle } from '../ports/store.js';
import { newId } from '../common/ids.js';
import type { Database } from '../ports/store-schema.js';
import { OrganisationNameInvalidError, OrganisationNameTakenError, OrganisationNotFoundError } from './errors.js';
import { organisationNameKey, organisationNameProblem } from './organisation-names.js';

/** Organisations (partners): the tenants that users, credentials and keys belong to. */

export interface Organisation {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

/**
 * The name must be valid as given (no trimming: leading or trailing white space is refused) and unique
 * up to NFKC, case folding and white space (src/partners/organisation-names.ts).
 */
export async function createOrganisation(store: StoreHandle, name: string, now: number = Date.now()): Promise<Organisation> {
  const org: Organisation = { id: newId('org'), name: validateOrganisationName(name), createdAt: now };
  const key = organisationNameKey(org.name);
  await claimName(store, key, undefined, async (trx) => {
    await trx.insertInto('organisations').values({ id: org.id, name: org.name, name_key: key, name_duplicate: 0, created_at: org.createdAt }).execute();
  });
  return org;
}

/**
 * Gives an organisation a new name under the same rules. Renaming one of a group of colliding names
 * kept from before names were unique hands the old name to the oldest remaining member, so the name
 * stays reserved.
 */
export async function renameOrganisation(store: StoreHandle, orgId: string, name: string): Promise<Organisation> {
  const newName = validateOrganisationName(name);
  const key = organisationNameKey(newName);
  let renamed: Organisation | undefined;
  await claimName(store, key, orgId, async (trx) => {
    const row = await trx.selectFrom('organisations').select(['id', 'name', 'name_key', 'created_at']).where('id', '=', orgId).executeTakeFirst();
    if (!row) throw new OrganisationNotFoundError(orgId);
    await trx.updateTable('organisations').set({ name: newName, name_key: key, name_duplicate: 0 }).where('id', '=', orgId).execute();
    await recordChange(trx, { type: 'organisation-renamed', orgId });
    if (row.name_key !== key) await reserveForOldestDuplicate(trx, row.name_key);
    renamed = { id: orgId, name: newName, createdAt: Number(row.created_at) };
  });
  identityEvents.emit({ type: 'organisation-renamed', orgId });
  return renamed as Organisation;
}

/** Runs `write` in a transaction after checking no other organisation holds `key`; a lost race is also ORG_NAME_TAKEN. */
async function claimName(store: StoreHandle, key: string, self: string | undefined, write: (trx: Kysely<Database>) => Promise<void>): Promise<void> {
  try {
    await inTransaction(store, async (trx) => {
      const holder = await nameHolder(trx, key, self);
      if (holder) throw new OrganisationNameTakenError(holder);
      await write(trx);
    });
  } catch (error) {
    // Another process may have taken the name between our check and the write (unique index).
    if (!(error instanceof OrganisationNameTakenError)) {
      const holder = await nameHolder(store, key, self).catch(() => undefined);
      if (holder) throw new OrganisationNameTakenError(holder);
    }
    throw error;
  }
}

async function nameHolder(store: StoreHandle, key: string, self: string | undefined): Promise<string | undefined> {
  let query = dbOf(store).selectFrom('organisations').select('id').where('name_key', '=', key);
  if (self !== undefined) query = query.where('id', '!=', self);
  const row = await query.orderBy('name_duplicate').orderBy('created_at').orderBy('id').executeTakeFirst();
  return row?.id;
}

async function reserveForOldestDuplicate(trx: Kysely<Database>, key: string): Promise<void> {
  const holder = await trx.selectFrom('organisations').select('id').where('name_key', '=', key).where('name_duplicate', '=', 0).executeTakeFirst();
  if (holder) return;
  const oldest = await trx.selectFrom('organisations').select('id').where('name_key', '=', key).orderBy('created_at').orderBy('id').executeTakeFirst();
  if (oldest) await trx.updateTable('organisations').set({ name_duplicate: 0 }).where('id', '=', oldest.id).execute();
}

export async function getOrganisation(store: StoreHandle, id: string): Promise<Organisation | undefined> {
  const row = await dbOf(store).selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toOrganisation(row);
}

export async function requireOrganisation(store: StoreHandle, id: string): Promise<Organisation> {
  const org = await getOrganisation(store, id);
  if (!org) throw new OrganisationNotFoundError(id);
  return org;
}

export async function listOrganisations(store: StoreHandle): Promise<Organisation[]> {
  const rows = await dbOf(store).selectFrom('organisations').selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(toOrganisation);
}

export function validateOrganisationName(name: unknown): string {
  if (typeof name !== 'string') throw new OrganisationNameInvalidError('organisation name must be a string');
  const problem = organisationNameProblem(name);
  if (problem !== undefined) throw new OrganisationNameInvalidError(problem);
  return name;
}

function toOrganisation(row: { id: string; name: string; created_at: number }): Organisation {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
}

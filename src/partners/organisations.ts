import { dbOf, type StoreHandle } from '../store/handle.js';
import { newId } from '../store/ids.js';
import { OrganisationNotFoundError, ValidationError } from './errors.js';

/** Organisations (partners): the tenants that users, credentials and keys belong to. */

export interface Organisation {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
}

export const ORG_NAME_MAX_LENGTH = 200;

/** The display name is trimmed; it must then be 1..200 characters without control characters. */
export async function createOrganisation(store: StoreHandle, name: string, now: number = Date.now()): Promise<Organisation> {
  const org: Organisation = { id: newId('org'), name: validateOrganisationName(name), createdAt: now };
  await dbOf(store).insertInto('organisations').values({ id: org.id, name: org.name, created_at: org.createdAt }).execute();
  return org;
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
  if (typeof name !== 'string') throw new ValidationError('organisation name must be a string', 'name');
  const trimmed = name.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > ORG_NAME_MAX_LENGTH) {
    throw new ValidationError(`organisation name must be 1 to ${ORG_NAME_MAX_LENGTH} characters`, 'name');
  }
  if (/\p{Cc}/u.test(trimmed)) throw new ValidationError('organisation name must not contain control characters', 'name');
  return trimmed;
}

function toOrganisation(row: { id: string; name: string; created_at: number }): Organisation {
  return { id: row.id, name: row.name, createdAt: Number(row.created_at) };
}

import { dbOf, type StoreHandle } from '../ports/store.js';
import { organisationNameProblem } from './organisation-names.js';
import type { Organisation } from './organisations.js';

/**
 * Organisation names a store kept from before names were checked and unique (migration
 * 005_organisation_name_keys): groups whose names are the same up to NFKC, case folding and white
 * space, and names that break today's rules. New ones cannot be made; these are reported at every
 * server start and by `pqseal org name-conflicts` until an operator renames them (`pqseal org rename`).
 */

export interface NameConflictMember extends Organisation {
  /** true for the one member that holds the name (the oldest): new organisations are refused it. */
  readonly holdsName: boolean;
}

export interface NameConflicts {
  readonly duplicates: readonly { readonly nameKey: string; readonly organisations: readonly NameConflictMember[] }[];
  readonly invalid: readonly { readonly organisation: Organisation; readonly problem: string }[];
}

export async function findNameConflicts(store: StoreHandle): Promise<NameConflicts> {
  // Organisations are tenants: few enough to check in one pass.
  const rows = await dbOf(store)
    .selectFrom('organisations')
    .select(['id', 'name', 'name_key', 'name_duplicate', 'created_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const byKey = new Map<string, NameConflictMember[]>();
  const invalid: { organisation: Organisation; problem: string }[] = [];
  for (const row of rows) {
    const member: NameConflictMember = { id: row.id, name: row.name, createdAt: Number(row.created_at), holdsName: Number(row.name_duplicate) === 0 };
    byKey.set(row.name_key, [...(byKey.get(row.name_key) ?? []), member]);
    const problem = organisationNameProblem(row.name);
    if (problem !== undefined) invalid.push({ organisation: { id: row.id, name: row.name, createdAt: member.createdAt }, problem });
  }
  const duplicates = [...byKey].filter(([, members]) => members.length > 1).map(([nameKey, organisations]) => ({ nameKey, organisations }));
  return { duplicates, invalid };
}

export function hasNameConflicts(c: NameConflicts): boolean {
  return c.duplicates.length > 0 || c.invalid.length > 0;
}

/** Human-readable lines; names are JSON-quoted so invisible and bidirectional characters show as escapes. */
export function describeNameConflicts(c: NameConflicts): string[] {
  const lines: string[] = [];
  for (const group of c.duplicates) {
    lines.push(`duplicate name ${JSON.stringify(group.nameKey)} (same up to case, width and spacing):`);
    for (const o of group.organisations)
      lines.push(`  ${o.id}  ${quote(o.name)}  created ${new Date(o.createdAt).toISOString()}${o.holdsName ? '  (holds the name)' : ''}`);
  }
  for (const { organisation: o, problem } of c.invalid) lines.push(`invalid name: ${o.id}  ${quote(o.name)}  — ${problem}`);
  return lines;
}

function quote(name: string): string {
  return showInvisible(JSON.stringify(name));
}

/** A name for a terminal: invisible and reordering characters shown as \u{…} escapes instead of applied. */
export function showInvisible(name: string): string {
  return name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}]/gu, (ch) => `\\u{${(ch.codePointAt(0) ?? 0).toString(16)}}`);
}

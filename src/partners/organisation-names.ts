/**
 * Organisation display names: what may be one, and the key under which two names count as the same.
 *
 * A signer's display name travels inside every envelope it signs (`signed_by`), so a name that looks
 * like another organisation's is an impersonation tool. Two defences:
 *
 * - Refused outright: leading or trailing white space, and every character a reader cannot see or
 *   that reorders what they see — controls (Cc), format characters (Cf: bidi overrides and isolates,
 *   zero-width space/joiners, BOM, tag characters), line and paragraph separators (Zl, Zp),
 *   surrogates (Cs), private-use (Co) and unassigned (Cn) code points, and the remaining
 *   Default_Ignorable_Code_Point characters (Hangul fillers, Mongolian FVS, …) except variation
 *   selectors, which emoji need.
 * - Unique under `organisationNameKey`: NFKC, full case folding, Default_Ignorable characters removed
 *   and runs of white space as one space — the Unicode NFKC_Casefold idea (UAX #15, UAX #44), so
 *   "Org A", "ORG A", "Ｏｒｇ Ａ" and "Org\u00a0A" are one name.
 *
 * Letters that merely look alike across scripts (Latin "A", Cyrillic "А") stay distinct names: the
 * identity a client checks is `signer_org_id`, never the name (README, "What a result proves").
 *
 * Stored keys were computed by this function (the migration that introduced them keeps a frozen copy,
 * src/store/migrations.ts), so changing it needs a new migration that recomputes
 * `organisations.name_key` (and re-flags duplicates).
 */

export const ORG_NAME_MAX_LENGTH = 200;

const INVISIBLE_OR_CONTROL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const DEFAULT_IGNORABLE_ALL = /\p{Default_Ignorable_Code_Point}/gu;
const VARIATION_SELECTOR = /^\p{Variation_Selector}$/u;
const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/** Why `name` cannot be an organisation name, or undefined when it can. */
export function organisationNameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length < 1 || length > ORG_NAME_MAX_LENGTH) return `organisation name must be 1 to ${ORG_NAME_MAX_LENGTH} characters`;
  if (name.trim() !== name) return 'organisation name must not start or end with white space';
  for (const ch of name) {
    if (INVISIBLE_OR_CONTROL.test(ch) || (DEFAULT_IGNORABLE.test(ch) && !VARIATION_SELECTOR.test(ch))) {
      return `organisation name must not contain invisible, control or bidirectional formatting characters (found U+${codePoint(ch)})`;
    }
  }
  if (organisationNameKey(name) === '') return 'organisation name must contain a visible character';
  return undefined;
}

/**
 * The uniqueness key. `toUpperCase().toLowerCase()` is JavaScript's closest full case folding
 * (ß → ss, ς → σ, ﬁ → fi), which `toLowerCase` alone is not; NFKC before and after because case
 * mappings can produce sequences NFKC would change.
 */
export function organisationNameKey(name: string): string {
  return name
    .replace(DEFAULT_IGNORABLE_ALL, '')
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .replace(DEFAULT_IGNORABLE_ALL, '')
    .replace(WHITE_SPACE_RUN, ' ')
    .trim();
}

function codePoint(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/**
 * Canonical JSON for audit records and checkpoints: object keys sorted by UTF-16 code units, no
 * whitespace, strings escaped as JSON.stringify escapes them. For the only value types allowed here
 * (strings, safe integers, booleans, null, arrays and objects of those) this is exactly JCS,
 * RFC 8785, so any JCS library reproduces the bytes that are hashed and signed.
 */
export type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | { readonly [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError('canonical JSON here allows only safe integers');
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v as CanonicalValue)).join(',')}]`;
  const object = value as { readonly [key: string]: CanonicalValue };
  const keys = Object.keys(object).sort();
  const parts: string[] = [];
  for (const key of keys) {
    const v = object[key];
    if (v === undefined) throw new RangeError(`canonical JSON: "${key}" is undefined`);
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

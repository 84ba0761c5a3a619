import { equalBytes, utf8 } from './bytes.js';
import { malformed } from './errors.js';

/**
 * The permission list slot of the header. The envelope only binds it (canonical JSON, authenticated
 * as AEAD associated data and covered by the signature); its meaning belongs to the core layer.
 * An empty list is encoded as zero bytes.
 */
export interface PermissionGrant {
  readonly partnerId: string;
  readonly actions: readonly string[];
  /** ISO 8601 instant, or undefined for no expiry. */
  readonly expiresAt?: string | undefined;
}

/** Canonical form: `[{"partner_id":…,"permissions":[…],"expires_at":…}]`, keys in this order, no whitespace. */
export function encodePermissions(grants: readonly PermissionGrant[]): Uint8Array {
  if (grants.length === 0) return new Uint8Array(0);
  const wire = grants.map((g) =>
    g.expiresAt === undefined
      ? { partner_id: g.partnerId, permissions: [...g.actions] }
      : { partner_id: g.partnerId, permissions: [...g.actions], expires_at: g.expiresAt },
  );
  return utf8.encode(JSON.stringify(wire));
}

export function decodePermissions(bytes: Uint8Array): PermissionGrant[] {
  if (bytes.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    throw malformed('permission list is not JSON');
  }
  if (!Array.isArray(parsed)) throw malformed('permission list is not an array');
  const grants = parsed.map(toGrant);
  // Only the canonical encoding is accepted, so one list has exactly one byte representation.
  if (!equalBytes(encodePermissions(grants), bytes)) throw malformed('permission list is not canonical');
  return grants;
}

function toGrant(item: unknown): PermissionGrant {
  if (typeof item !== 'object' || item === null) throw malformed('permission entry is not an object');
  const { partner_id, permissions, expires_at } = item as Record<string, unknown>;
  if (typeof partner_id !== 'string') throw malformed('permission entry has no partner_id');
  if (!Array.isArray(permissions) || !permissions.every((a): a is string => typeof a === 'string')) {
    throw malformed('permission entry has no action list');
  }
  if (expires_at !== undefined && typeof expires_at !== 'string') throw malformed('permission expires_at is not a string');
  return expires_at === undefined ? { partnerId: partner_id, actions: permissions } : { partnerId: partner_id, actions: permissions, expiresAt: expires_at };
}

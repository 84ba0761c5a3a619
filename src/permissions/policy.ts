import type { PermissionGrant } from '../envelope/index.js';
import { ACTIONS } from './actions.js';
import { validationError } from '../core/errors.js';
import type { Caller } from '../core/operations.js';

export interface WirePermission {
  readonly partner_id: string;
  readonly permissions: readonly string[];
  readonly expires_at?: string | undefined;
}

/** At most this many partners per envelope (the JSON schema says the same for HTTP requests). */
export const MAX_GRANTS = 64;

/**
 * Checks a request's permission list beyond what the JSON schema can and turns it into the grants
 * bound into the envelope. The size bound and the action vocabulary (`read` only, see
 * src/permissions/actions.ts) are checked here too, for callers that do not come through HTTP.
 */
export class PermissionPolicy {
  constructor(
    private readonly orgExists: (orgId: string) => Promise<boolean>,
    private readonly now: () => number = Date.now,
  ) {}

  async validate(caller: Caller, list: readonly WirePermission[]): Promise<PermissionGrant[]> {
    if (list.length > MAX_GRANTS) throw validationError(`permissions: at most ${MAX_GRANTS} partners per envelope`);
    const seen = new Set<string>();
    const grants: PermissionGrant[] = [];
    for (const [i, entry] of list.entries()) {
      const unknown = entry.permissions.find((a) => !(ACTIONS as readonly string[]).includes(a));
      if (unknown !== undefined)
        throw validationError(`permissions[${i}]: unknown action "${unknown}"; the only action is "read" (may decrypt and decrypt-verify)`);
      if (entry.permissions.length === 0) throw validationError(`permissions[${i}]: list at least one action ("read")`);
      if (seen.has(entry.partner_id)) throw validationError(`permissions[${i}]: partner "${entry.partner_id}" is listed twice`);
      seen.add(entry.partner_id);
      if (entry.partner_id === caller.orgId) {
        throw validationError(`permissions[${i}]: the owner organisation always has access and cannot be listed as a partner`);
      }
      let expiresAt: string | undefined;
      if (entry.expires_at !== undefined) {
        const at = Date.parse(entry.expires_at);
        if (Number.isNaN(at)) throw validationError(`permissions[${i}].expires_at is not an ISO 8601 instant`);
        if (at <= this.now()) throw validationError(`permissions[${i}].expires_at is in the past`);
        expiresAt = new Date(at).toISOString();
      }
      if (!(await this.orgExists(entry.partner_id))) throw validationError(`permissions[${i}]: unknown partner "${entry.partner_id}"`);
      grants.push({ partnerId: entry.partner_id, actions: [...entry.permissions].sort(), expiresAt });
    }
    return grants;
  }
}

import type { EnvelopeHeader, PermissionGrant } from '../envelope/index.js';
import { validationError } from '../common/service-error.js';
import { ACTIONS, READ } from './actions.js';
import { accessDenied } from './errors.js';

/**
 * The permission rules in one place: what a seal request may grant (`PermissionPolicy`), and whether
 * a partner may have the service open another organisation's envelope (`PartnerAccess`).
 */

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

  async validate(caller: { readonly orgId: string }, list: readonly WirePermission[]): Promise<PermissionGrant[]> {
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

/**
 * May a partner organisation have the service open an envelope owned by another organisation?
 * Only if the header lists it with `read`, the grant has not expired, and neither this envelope nor
 * all of the owner's envelopes are revoked for it. The header is not yet authenticated here: the AEAD
 * open that follows a "yes" proves the list used for the decision is the one the owner sealed.
 *
 * The owner's own opens never come here, so they touch neither the revocation store nor the clock.
 */

export interface RevocationLookup {
  /** Throws `RevocationStateUnavailableError` when the state cannot be read: never "not revoked" by default. */
  isRevoked(ownerOrgId: string, partnerId: string, envelopeId: string): Promise<boolean>;
}

export class PartnerAccess {
  constructor(
    private readonly revocations: RevocationLookup,
    private readonly now: () => number = Date.now,
  ) {}

  async authorise(partnerOrgId: string, header: EnvelopeHeader, envelopeId: string): Promise<void> {
    const grant = header.permissions.find((g) => g.partnerId === partnerOrgId);
    if (!grant || !grant.actions.includes(READ)) throw accessDenied();
    if (grant.expiresAt !== undefined) {
      const until = Date.parse(grant.expiresAt);
      if (!(until > this.now())) throw accessDenied();
    }
    if (await this.revocations.isRevoked(header.ownerOrgId, partnerOrgId, envelopeId)) throw accessDenied();
  }
}

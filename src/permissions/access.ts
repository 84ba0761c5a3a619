import type { EnvelopeHeader } from '../envelope/index.js';
import { READ } from './actions.js';
import { accessDenied } from './errors.js';

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

import { getOrganisation } from '../partners/organisations.js';
import type { Cache } from '../ports/cache.js';
import type { StoreHandle } from '../ports/store.js';

/**
 * Organisation display names for the hot path (`signed_by`, partner checks), cached. Renames happen
 * in another process (`pqseal org rename`): the composition root drops the name on the invalidation bus.
 */
export class OrganisationDirectory {
  constructor(
    private readonly store: StoreHandle,
    private readonly names: Cache<string>,
  ) {}

  async name(orgId: string): Promise<string | undefined> {
    const cached = this.names.get(orgId);
    if (cached) return cached;
    const org = await getOrganisation(this.store, orgId);
    if (org) this.names.set(orgId, org.name);
    return org?.name;
  }

  async exists(orgId: string): Promise<boolean> {
    return (await this.name(orgId)) !== undefined;
  }
}

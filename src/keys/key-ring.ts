import type { Kysely } from 'kysely';
import { ALWAYS_TRUSTED, type CacheTrust } from '../ports/cache.js';
import type { Database } from '../ports/store-schema.js';
import { activeOrgKey, findOrgKey, type OrgKeyRecord } from './org-keys.js';

/**
 * In-memory view of organisation keys for the hot path. Key records never change once written, so
 * lookups by id are cached for good; "which version is active" is cached for `activeTtlMs` and dropped
 * on a rotation: at once in this process, from the invalidation bus for rotations made elsewhere.
 */
export class KeyRing {
  private readonly byIdCache = new Map<string, OrgKeyRecord>();
  private readonly activeCache = new Map<string, { signing: OrgKeyRecord; kem: OrgKeyRecord; until: number; epoch: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly activeTtlMs = 30_000,
    /** While it says a rotation may be missed, "which version is active" is read every time. */
    private readonly trust: CacheTrust = ALWAYS_TRUSTED,
  ) {}

  async active(orgId: string): Promise<{ signing: OrgKeyRecord; kem: OrgKeyRecord } | undefined> {
    const hit = this.activeCache.get(orgId);
    if (hit && hit.until > Date.now() && hit.epoch === this.trust.epoch && this.trust.trusted()) return hit;
    const [signing, kem] = await Promise.all([activeOrgKey(this.db, orgId, 'signing'), activeOrgKey(this.db, orgId, 'kem')]);
    if (!signing || !kem) return undefined;
    if (this.trust.trusted()) this.activeCache.set(orgId, { signing, kem, until: Date.now() + this.activeTtlMs, epoch: this.trust.epoch });
    this.byIdCache.set(signing.id, signing);
    this.byIdCache.set(kem.id, kem);
    return { signing, kem };
  }

  async byId(keyId: string): Promise<OrgKeyRecord | undefined> {
    const hit = this.byIdCache.get(keyId);
    if (hit) return hit;
    const record = await findOrgKey(this.db, keyId);
    if (record) this.byIdCache.set(keyId, record);
    return record;
  }

  /** Call after a rotation (made here, or learnt from the invalidation bus). */
  invalidate(orgId: string): void {
    this.activeCache.delete(orgId);
  }
}

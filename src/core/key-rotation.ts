import type { CryptoProviders } from '../crypto/providers.js';
import type { KeyRing } from '../keys/key-ring.js';
import { newOrgKeyMaterial, storeOrgKeys, wipeOrgKeyMaterial, type OrgKeyRecord } from '../keys/org-keys.js';
import { recordChange } from '../ports/change-log.js';
import { identityEvents } from '../ports/invalidation.js';
import type { KeyEncryption } from '../ports/key-encryption.js';
import { inTransaction, type StoreHandle } from '../ports/store.js';

export interface KeyRotationDeps {
  readonly store: StoreHandle;
  readonly providers: CryptoProviders;
  readonly keyEncryption: KeyEncryption;
  readonly keyRing: Pick<KeyRing, 'invalidate'>;
  readonly organisationExists: (orgId: string) => Promise<boolean>;
  readonly now: () => number;
}

/** `pqseal org rotate-keys`: the next version of both key pairs, in one transaction; new envelopes use it at once in this process. */
export async function rotateOrgKeys(deps: KeyRotationDeps, orgId: string): Promise<{ signingKeyId: string; kemKeyId: string }> {
  if (!(await deps.organisationExists(orgId))) throw new Error(`unknown organisation ${orgId}`);
  const material = newOrgKeyMaterial(deps.providers);
  const event = { type: 'keys-rotated', orgId } as const;
  let stored: { signing: OrgKeyRecord; kem: OrgKeyRecord };
  try {
    stored = await inTransaction(deps.store, async (trx) => {
      const keys = await storeOrgKeys(trx, deps.keyEncryption, orgId, material, deps.now());
      await recordChange(trx, event, deps.now());
      return keys;
    });
  } finally {
    wipeOrgKeyMaterial(material);
  }
  const { signing, kem } = stored;
  deps.keyRing.invalidate(orgId);
  identityEvents.emit(event);
  return { signingKeyId: signing.id, kemKeyId: kem.id };
}

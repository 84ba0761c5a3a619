import type { CryptoProviders } from '../crypto/providers.js';
import type { KeyRing } from '../keys/key-ring.js';
import { generateOrgKeys } from '../keys/org-keys.js';
import type { KeyEncryption } from '../ports/key-encryption.js';
import type { StoreHandle } from '../ports/store.js';

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
  const { signing, kem } = await generateOrgKeys(deps.store, deps.providers, deps.keyEncryption, orgId, deps.now());
  deps.keyRing.invalidate(orgId);
  return { signingKeyId: signing.id, kemKeyId: kem.id };
}

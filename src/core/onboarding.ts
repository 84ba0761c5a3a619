import { generatePassword, usernameFor, type NewOrganisation } from './organisations.js';
import type { CryptoProviders } from '../crypto/providers.js';
import { hashPassword } from '../identity/passwords.js';
import { insertUser } from '../identity/users.js';
import { newOrgKeyMaterial, storeOrgKeys, wipeOrgKeyMaterial } from '../keys/org-keys.js';
import { createCredentials } from '../partners/credentials.js';
import { createOrganisation, validateOrganisationName } from '../partners/organisations.js';
import type { KeyEncryption } from '../ports/key-encryption.js';
import { inTransaction, type StoreHandle } from '../ports/store.js';

export interface OnboardingDeps {
  readonly store: StoreHandle;
  readonly providers: CryptoProviders;
  readonly keyEncryption: KeyEncryption;
  readonly now: () => number;
}

/**
 * A new organisation with everything it needs to work: its row and name, both key pairs, a user and a
 * partner credential set — all or nothing. The expensive work (key generation, argon2id hashing) is
 * done first; then one transaction writes it all, so the store's write lock is held only for the
 * inserts and a failure at any step leaves neither a half-made organisation nor its name taken.
 */
export async function onboardOrganisation(deps: OnboardingDeps, name: string): Promise<NewOrganisation> {
  const validName = validateOrganisationName(name);
  const username = usernameFor(validName);
  const password = generatePassword();
  const passwordHash = await hashPassword(password);
  const keys = newOrgKeyMaterial(deps.providers);
  try {
    const now = deps.now();
    return await inTransaction(deps.store, async (trx) => {
      const org = await createOrganisation(trx, validName, now);
      await storeOrgKeys(trx, deps.keyEncryption, org.id, keys, now);
      await insertUser(trx, { orgId: org.id, username, passwordHash }, now);
      const creds = await createCredentials(trx, org.id, now);
      return { org_id: org.id, name: org.name, username, password, api_key: creds.apiKey, access_key: creds.accessKey, secret_key: creds.secretKey };
    });
  } finally {
    wipeOrgKeyMaterial(keys);
  }
}

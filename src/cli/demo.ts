import type { NewOrganisation } from '../core/organisations.js';
import type { Services } from '../services.js';

export const DEMO_ORG_NAME = 'Demo Organisation';
const BOOTSTRAP_MARK = 'demo_bootstrapped_at';

export interface DemoBootstrap {
  readonly org: NewOrganisation;
}

/**
 * On the first start with an empty DATA_DIR, creates the demo organisation. Its secrets exist only in
 * the return value, which the caller prints once; later starts find the mark and print nothing.
 */
export async function bootstrapDemo(services: Services): Promise<DemoBootstrap | undefined> {
  if (await services.store.getMeta(BOOTSTRAP_MARK)) return undefined;
  const org = await services.createOrganisation(DEMO_ORG_NAME);
  await services.store.setMeta(BOOTSTRAP_MARK, new Date().toISOString());
  return { org };
}

/** The first-start banner: the five credentials once, with ready-to-paste curl commands. */
export function demoBanner(url: string, org: NewOrganisation): string {
  const headers = [
    `-H "Content-Type: application/json"`,
    `-H "username: ${org.username}"`,
    `-H "password: ${org.password}"`,
    `-H "api_key: ${org.api_key}"`,
    `-H "access_key: ${org.access_key}"`,
    `-H "secret_key: ${org.secret_key}"`,
  ].join(' \\\n  ');
  return [
    '',
    '================================================================================',
    ` pqseal: created the demo organisation "${org.name}" (${org.org_id}).`,
    ' These credentials are shown ONCE. Store them now; the secrets are kept only as hashes.',
    '',
    `   username:   ${org.username}`,
    `   password:   ${org.password}`,
    `   api_key:    ${org.api_key}`,
    `   access_key: ${org.access_key}`,
    `   secret_key: ${org.secret_key}`,
    '',
    ' Sign and encrypt:',
    '',
    `curl -s -X POST ${url}/v1/sign-encrypt \\\n  ${headers} \\\n  -d '{"data": "sensitive information to sign and encrypt"}'`,
    '',
    ' Decrypt and verify (paste the encrypted_data from the answer above):',
    '',
    `curl -s -X POST ${url}/v1/decrypt-verify \\\n  ${headers} \\\n  -d '{"encrypted_data": "<encrypted_data>"}'`,
    '',
    ` Or try it in a browser: ${url}/console`,
    '================================================================================',
    '',
  ].join('\n');
}

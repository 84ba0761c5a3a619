import type { NewOrganisation } from '../core/organisations.js';

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

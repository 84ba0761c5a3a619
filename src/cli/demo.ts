import { join } from 'node:path';
import type { Config } from '../config.js';
import type { NewOrganisation } from '../core/organisations.js';
import { replaceFilePrivately } from './private-file.js';

/** Where a production server without a terminal leaves the demo credentials (in DATA_DIR, mode 0600). */
export const DEMO_CREDENTIALS_FILE = 'demo-credentials.txt';

/**
 * The banner never goes into the JSON log stream (stdout): on stderr for a person at a terminal or a
 * development start; under NODE_ENV=production without a terminal (a container, a service manager,
 * whose stderr is collected like any log) into a 0600 file in DATA_DIR, and the log says only where.
 */
export function showDemoCredentials(
  config: Pick<Config, 'production' | 'dataDir'>,
  url: string,
  org: NewOrganisation,
  log: { info(details: object, message: string): void },
): void {
  const banner = demoBanner(url, org);
  if (!config.production || process.stderr.isTTY) {
    process.stderr.write(banner);
    return;
  }
  const file = join(config.dataDir, DEMO_CREDENTIALS_FILE);
  replaceFilePrivately(file, banner);
  log.info({ file }, 'created the demo organisation; its credentials are only in this file (mode 0600): read it, then delete it');
}

/** The first-start banner: the five credentials once, with ready-to-paste curl commands. */
function demoBanner(url: string, org: NewOrganisation): string {
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

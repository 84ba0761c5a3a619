import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { LOG_FILE, SECRETS_FILE } from './helpers/server.js';

/**
 * Runs last (file order): every log line every test server wrote during this `npm test` run is
 * searched for every password, secret key, token and plaintext the tests used.
 */
test('no secret or plaintext used anywhere in the test run appears in any server log line', (t) => {
  if (!existsSync(LOG_FILE) || !existsSync(SECRETS_FILE)) {
    t.skip('run as part of `npm test`: no server logs or secrets were recorded in this process tree');
    return;
  }
  const logs = readFileSync(LOG_FILE, 'utf8');
  const secrets = [
    ...new Set(
      readFileSync(SECRETS_FILE, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string),
    ),
  ];
  const plaintexts = ['sensitive information to sign and encrypt', 'made under v1', 'via sdk token', 'tamper me', 'from the CLI org', 'direct data'];
  const lines = logs.split('\n').filter(Boolean);
  assert.ok(lines.length > 50, `expected a real run's worth of logs, got ${lines.length} lines`);
  assert.ok(secrets.length > 10, `expected many recorded secrets, got ${secrets.length}`);
  for (const secret of [...secrets, ...plaintexts]) {
    assert.equal(logs.includes(secret), false, `a log line contains a secret or plaintext (${secret.slice(0, 6)}…)`);
  }
  t.diagnostic(`searched ${lines.length} log lines for ${secrets.length + plaintexts.length} secrets and plaintexts`);
});

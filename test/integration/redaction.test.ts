import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { forgetSecret, registerSecret, SecretInLogError } from '../helpers/redaction.js';
import { startTestServer } from '../helpers/server.js';

/**
 * The redaction check every test file runs (test/helpers/redaction.ts) really fails: a test server
 * whose log holds a registered secret fails its stop(), and a file whose logs hold secrets registered
 * after the servers stopped fails after its last test, whatever else ran before or alongside it.
 */

const run = promisify(execFile);
const FIXTURE = new URL('../fixtures/leaking-logs.js', import.meta.url).pathname;

test('stop() fails with SECRET_IN_LOG when the test server logged a registered secret, naming only its first characters', async () => {
  const server = await startTestServer();
  const secret = `leak-probe-${randomUUID()}`;
  registerSecret(secret);
  // The request line (with its query) is logged as it arrived.
  assert.equal((await fetch(`${server.url}/healthz?probe=${secret}`)).status, 200);
  try {
    await assert.rejects(server.stop(), (e: unknown) => {
      assert.ok(e instanceof SecretInLogError);
      assert.equal(e.code, 'SECRET_IN_LOG');
      assert.deepEqual(e.prefixes, ['leak-p…']);
      assert.equal(e.message.includes(secret), false, 'the error does not repeat the secret');
      return true;
    });
  } finally {
    // Planted on purpose: the check after this file's last test must not fail on it.
    forgetSecret(secret);
  }
  assert.ok(server.logs.length > 0);
});

test('a test file whose logs hold secrets registered after its servers stopped fails after its last test', async () => {
  const probes = [`late-server-probe-${randomUUID()}`, `late-child-probe-${randomUUID()}`];
  // Without NODE_TEST_CONTEXT: the inner runner reports to this one's output, not to a parent runner.
  const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
  const failed = await run(process.execPath, ['--test', '--test-reporter=spec', FIXTURE], { env: { ...env, LEAK_PROBES: probes.join(',') } }).then(
    () => assert.fail('the file with leaking logs passed'),
    (e: unknown) => e as { code: number; stdout: string; stderr: string },
  );
  const output = `${failed.stdout}\n${failed.stderr}`;
  assert.notEqual(failed.code, 0);
  assert.match(output, /✔ a test server logs a value that becomes a secret only after the server stopped/);
  assert.match(output, /✔ a child process's collected output carries a secret/);
  assert.match(output, /the log of the test server on \S+ and a child process contains 2 secret\(s\) or plaintext\(s\) a test used: late-s…, late-c…/);
  for (const probe of probes) assert.equal(output.includes(probe), false, 'the failure does not repeat the secret');
});

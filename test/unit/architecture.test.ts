import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/server.js';

/**
 * The import rules of docs/architecture.md. `npm run deps` (run by .ci/run) checks the tree itself;
 * here a copy of the tree with one forbidden import of each kind fails with the rule that forbids it.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

function depcruise(cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG], { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

test('a forbidden import fails the check, naming the rule', async () => {
  const copy = tempDir('pqseal-architecture-');
  cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
  cpSync(join(ROOT, 'tsconfig.json'), join(copy, 'tsconfig.json'));
  // One of each: crypto above its layer, the domain reaching into http, a domain module using an
  // adapter, a store adapter using the domain, and a cycle between two files.
  appendFileSync(join(copy, 'src/crypto/hash.ts'), "\nimport '../envelope/key-schedule.js';\n");
  appendFileSync(join(copy, 'src/identity/passwords.ts'), "\nimport '../http/redaction.js';\n");
  appendFileSync(join(copy, 'src/keys/key-ring.ts'), "\nimport '../memory/ttl-cache.js';\n");
  appendFileSync(join(copy, 'src/store/meta.ts'), "\nimport '../partners/organisation-names.js';\n");
  appendFileSync(join(copy, 'src/common/ids.ts'), "\nimport './domain-error.js';\n");
  appendFileSync(join(copy, 'src/common/domain-error.ts'), "\nimport './ids.js';\n");

  const { code, output } = await depcruise(copy);
  assert.notEqual(code, 0, output);
  assert.match(output, /layer:crypto: src\/crypto\/hash\.ts → src\/envelope\/key-schedule\.ts/);
  assert.match(output, /layer:identity: src\/identity\/passwords\.ts → src\/http\/redaction\.ts/);
  assert.match(output, /adapters-only-in-the-composition-root: src\/keys\/key-ring\.ts → src\/memory\/ttl-cache\.ts/);
  assert.match(output, /adapters-below-the-domain: src\/store\/meta\.ts → src\/partners\/organisation-names\.ts/);
  assert.match(output, /no-circular: src\/common\/(ids|domain-error)\.ts/);
});

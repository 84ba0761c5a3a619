import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { managedHeaders, post, registerSecret, tempDir } from '../helpers/server.js';
import { spawnServe } from '../helpers/serve-process.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

/**
 * What a built tree ships: what the Dockerfile's runtime stage copies from its build stage (so this test
 * also proves that set is enough), and the lock file its production-dependencies stage installs from.
 */
function shipped(): string[] {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.indexOf(' AS runtime'));
  const copies = [...runtime.matchAll(/^COPY --from=build \/app\/(\S+) (\S+)$/gm)].map((m) => m[1] as string);
  assert.ok(copies.includes('dist/src') && copies.includes('bin'), `the runtime stage's copies: ${copies.join(', ')}`);
  return [...copies, 'package-lock.json'];
}

/**
 * A copy of this tree's node_modules (here possibly a folder of links to another checkout's: each entry
 * is copied from where it really is, links inside kept as they are, e.g. @pqseal/sdk → packages/sdk).
 * `npm ci --omit=dev --offline` would be the real thing, but the npm cache here lacks packages and
 * better-sqlite3 then compiles for two minutes; pruning a copy gives the same tree.
 */
function copyNodeModules(to: string): void {
  const from = join(ROOT, 'node_modules');
  mkdirSync(join(to, 'node_modules'));
  for (const entry of readdirSync(from)) cpSync(realpathSync(join(from, entry)), join(to, 'node_modules', entry), { recursive: true, verbatimSymlinks: true });
}

describe('production install', () => {
  test("a built tree (the Docker runtime stage's files) with its dev dependencies pruned starts with npm start, seals and opens over HTTP", async () => {
    const tree = tempDir('pqseal-prod-');
    for (const path of shipped()) cpSync(join(ROOT, path), join(tree, path), { recursive: true });
    copyNodeModules(tree);
    await run('npm', ['prune', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: tree });
    assert.ok(!existsSync(join(tree, 'node_modules', 'typescript')), 'TypeScript (a dev dependency) is gone');
    assert.ok(existsSync(join(tree, 'node_modules', 'fastify')));

    const dataDir = join(tree, 'data');
    const env = { DATA_DIR: dataDir, NODE_ENV: 'production' };
    const created = await run('node', ['bin/pqseal.js', 'org', 'create', '--name', 'Production Install', '--json'], {
      cwd: tree,
      env: { ...process.env, ...env },
    });
    const org = JSON.parse(created.stdout) as {
      password: string;
      secret_key: string;
      username: string;
      api_key: string;
      access_key: string;
      org_id: string;
      name: string;
    };
    registerSecret(org.password, org.secret_key);

    const server = await spawnServe(env, { cwd: tree, command: ['npm', 'start', '--', '--port', '0'], what: 'npm start (production install)' });
    try {
      assert.doesNotMatch(server.stdout(), /tsc|error/i);
      const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'direct data' });
      assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
      const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(opened.status, 200);
      assert.equal(opened.json.body.decrypted_data, 'direct data');
      assert.equal(opened.json.body.is_valid_signature, true);
      assert.equal((await fetch(`${server.url}/console`)).status, 200, 'the console assets ship with the tree');
    } finally {
      await server.stop();
    }

    // Without TypeScript, npm start cannot build: a tree shipped without its build says so.
    renameSync(join(tree, 'dist'), join(tree, 'dist.away'));
    await assert.rejects(run('npm', ['start'], { cwd: tree, env: { ...process.env, ...env, PORT: '0' } }), (e: { stderr?: string }) =>
      /not built, and TypeScript is not installed/.test(e.stderr ?? ''),
    );
  });
});

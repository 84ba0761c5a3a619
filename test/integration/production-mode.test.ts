import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { post, registerSecret, tempDataDir } from '../helpers/server.js';
import { CLI, spawnServe } from '../helpers/serve-process.js';

const run = promisify(execFile);
const DEMO_FILE = 'demo-credentials.txt';

/** The five credentials of a banner (or of the credentials file, which holds the same text). */
function credentialsIn(text: string): { username: string; password: string; api_key: string; access_key: string; secret_key: string } {
  const field = (name: string) => new RegExp(`^ +${name}: +(\\S+)$`, 'm').exec(text)?.[1] ?? '';
  const org = {
    username: field('username'),
    password: field('password'),
    api_key: field('api_key'),
    access_key: field('access_key'),
    secret_key: field('secret_key'),
  };
  assert.ok(Object.values(org).every(Boolean), 'the banner holds the five credentials');
  registerSecret(org.password, org.secret_key);
  return org;
}

async function organisations(dataDir: string): Promise<unknown[]> {
  const { stdout } = await run('node', [CLI, 'org', 'list', '--json'], { env: { ...process.env, DATA_DIR: dataDir } });
  return (JSON.parse(stdout) as { organisations: unknown[] }).organisations;
}

function assertEveryLineIsJson(stdout: string): void {
  for (const line of stdout.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line.slice(0, 60)}`);
}

describe('production mode: the demo organisation and its banner', () => {
  test('a first start prints the banner on stderr, never into the JSON log stream on stdout', async () => {
    const dataDir = tempDataDir();
    const server = await spawnServe({ DATA_DIR: dataDir });
    try {
      const org = credentialsIn(await server.matching('stderr', /console\n=+\n/));
      assert.match(server.stderr(), /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/v1\/sign-encrypt/);
      assertEveryLineIsJson(server.stdout());
      assert.ok(!server.stdout().includes(org.secret_key) && !server.stdout().includes(org.password));
      const sealed = await post(`${server.url}/v1/sign-encrypt`, org, { data: 'direct data' });
      assert.equal(sealed.status, 200);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  test('PQSEAL_DEMO=0 (and no) create no demo organisation', async () => {
    for (const off of ['0', 'no']) {
      const dataDir = tempDataDir();
      const server = await spawnServe({ DATA_DIR: dataDir, PQSEAL_DEMO: off });
      await server.stop();
      assert.doesNotMatch(server.stderr(), /secret_key/);
      assert.deepEqual(await organisations(dataDir), [], `PQSEAL_DEMO=${off}`);
    }
  });

  test('NODE_ENV=production: no demo unless PQSEAL_DEMO=true; then its credentials go to a 0600 file, not to stdout or stderr', async () => {
    const plain = tempDataDir();
    const quiet = await spawnServe({ DATA_DIR: plain, NODE_ENV: 'production' });
    await quiet.stop();
    assert.deepEqual(await organisations(plain), []);
    assert.ok(!existsSync(join(plain, DEMO_FILE)));

    const dataDir = tempDataDir();
    const server = await spawnServe({ DATA_DIR: dataDir, NODE_ENV: 'production', PQSEAL_DEMO: 'TRUE' });
    try {
      const file = join(dataDir, DEMO_FILE);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const org = credentialsIn(readFileSync(file, 'utf8'));
      for (const stream of [server.stdout(), server.stderr()]) {
        assert.ok(!stream.includes(org.secret_key) && !stream.includes(org.password), 'no secret on stdout or stderr');
      }
      assertEveryLineIsJson(server.stdout());
      assert.match(server.stdout(), new RegExp(DEMO_FILE), 'the log says where the credentials are');
      assert.equal((await post(`${server.url}/v1/sign-encrypt`, org, { data: 'direct data' })).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('NODE_ENV=production at a terminal: the banner is shown there and no credentials file is written', async () => {
    const dataDir = tempDataDir();
    // script(1) runs the server on a pseudo-terminal: its stdout and stderr both arrive here as stdout.
    const server = await spawnServe(
      { DATA_DIR: dataDir, NODE_ENV: 'production', PQSEAL_DEMO: 'yes' },
      { command: ['script', '-qefc', `node ${CLI} serve --port 0`, '/dev/null'], what: 'pqseal serve on a terminal', terminal: true },
    );
    try {
      const org = credentialsIn((await server.matching('stdout', /console\r?\n=+\r?\n/)).replaceAll('\r', ''));
      assert.ok(!existsSync(join(dataDir, DEMO_FILE)), 'no file when a person sees the terminal');
      assert.equal((await post(`${server.url}/v1/sign-encrypt`, org, { data: 'direct data' })).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('a boolean variable with another word stops the server with a message naming it', async () => {
    await assert.rejects(
      run('node', [CLI, 'serve', '--port', '0'], { env: { ...process.env, DATA_DIR: tempDataDir(), PQSEAL_DEMO: 'ja' } }),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /PQSEAL_DEMO/.test(e.stderr ?? ''),
    );
  });
});

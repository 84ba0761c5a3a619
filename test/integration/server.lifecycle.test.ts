import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { managedHeaders, post, registerSecret, startTestServer, tempDataDir } from '../helpers/server.js';

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

describe('keys and persistence', () => {
  test('rotation: new envelopes use the new version; old envelopes still decrypt and verify after a restart', async () => {
    const dataDir = tempDataDir();
    let server = await startTestServer({ dataDir });
    const org = await server.createOrg('Rotating Org');
    const h = managedHeaders(org);
    const before = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'made under v1' });
    const rotated = await server.services.rotateKeys(org.org_id);
    assert.match(rotated.signingKeyId, /\.sig\.v2$/);
    const afterRotation = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'made under v2' });
    const v2 = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: afterRotation.json.body.encrypted_data });
    assert.equal(v2.json.body.signer_key_id, rotated.signingKeyId);
    await server.stop({ keepData: true });

    server = await startTestServer({ dataDir });
    try {
      const v1 = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: before.json.body.encrypted_data });
      assert.equal(v1.status, 200);
      assert.equal(v1.json.body.decrypted_data, 'made under v1');
      assert.equal(v1.json.body.is_valid_signature, true);
      assert.match(v1.json.body.signer_key_id, /\.sig\.v1$/);
    } finally {
      await server.stop();
    }
  });

  test('the master key file is created 0600, and a world-readable one is refused', async () => {
    const dataDir = tempDataDir();
    const server = await startTestServer({ dataDir });
    await server.stop({ keepData: true });
    const keyFile = join(dataDir, 'master.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    chmodSync(keyFile, 0o644);
    await assert.rejects(startTestServer({ dataDir }), /readable by other users/);
  });

  test('the store going away: /readyz and store-bound requests answer 503, never 500', async () => {
    const server = await startTestServer();
    try {
      const org = await server.createOrg('Store Down Org');
      await server.services.store.close();
      const ready = await fetch(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      const res = await post(`${server.url}/v1/encrypt`, managedHeaders(org), { data: 'x' });
      assert.equal(res.status, 503);
      assert.equal(res.json.body.error.code, 'STORE_UNAVAILABLE');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    } finally {
      await server.stop();
    }
  });
});

describe('transport', () => {
  test('CORS is off by default and allows only configured origins', async () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/v1/encrypt`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,username' },
      });
    const closed = await startTestServer();
    try {
      const res = await preflight(closed.url, 'https://app.example');
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    } finally {
      await closed.stop();
    }
    const open = await startTestServer({ corsOrigins: ['https://app.example'] });
    try {
      const allowed = await preflight(open.url, 'https://app.example');
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
      const other = await preflight(open.url, 'https://evil.example');
      assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
    } finally {
      await open.stop();
    }
  });

  test('HTTPS with a certificate and key (self-signed, made here)', async () => {
    const dir = tempDataDir();
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const server = await startTestServer({ tlsCertFile: cert, tlsKeyFile: key });
    try {
      assert.match(server.url, /^https:/);
      const { readFileSync } = await import('node:fs');
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(`${server.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      assert.deepEqual(JSON.parse(body), { status: 'ok' });
    } finally {
      await server.stop();
    }
  });
});

describe('command line and first run', () => {
  test('pqseal org create --json prints the seven fields, and they work', async () => {
    const dataDir = tempDataDir();
    const { stdout } = await run('node', [CLI, 'org', 'create', '--name', 'CLI Org', '--json'], { env: { ...process.env, DATA_DIR: dataDir } });
    const org = JSON.parse(stdout);
    assert.deepEqual(Object.keys(org).sort(), ['access_key', 'api_key', 'name', 'org_id', 'password', 'secret_key', 'username']);
    registerSecret(org.password, org.secret_key);
    const server = await startTestServer({ dataDir });
    try {
      const res = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'from the CLI org' });
      assert.equal(res.status, 200);
      const keys = await run('node', [CLI, 'keys', 'list', '--org', org.org_id, '--json'], { env: { ...process.env, DATA_DIR: dataDir } });
      assert.equal(JSON.parse(keys.stdout).keys.length, 2);
    } finally {
      await server.stop();
    }
  });

  test('usage errors exit 2 with a message', async () => {
    await assert.rejects(
      run('node', [CLI, 'org', 'create', '--json']),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /--name is required/.test(e.stderr ?? ''),
    );
    await assert.rejects(run('node', [CLI, 'frobnicate']), (e: { code?: number }) => e.code === 2);
  });

  test('first start prints the demo credentials and curl once; the second start does not; SIGTERM drains and exits 0', async () => {
    const dataDir = tempDataDir();
    const first = await runServeUntilListening(dataDir);
    assert.match(first.output, /Demo Organisation/);
    assert.match(first.output, /curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/v1\/sign-encrypt/);
    assert.match(first.output, /\/v1\/decrypt-verify/);
    assert.match(first.output, /http:\/\/127\.0\.0\.1:\d+\/console/);
    const secret = /secret_key: (sk_\S+)/.exec(first.output)?.[1];
    assert.ok(secret);
    registerSecret(secret);
    assert.equal(first.exitCode, 0);
    assert.ok(existsSync(join(dataDir, 'pqseal.db')));
    let drained: { status: number; json: { statusCode?: number } } | undefined;
    const second = await runServeUntilListening(dataDir, async (url, stop) => {
      const org = {
        username: /username: +(\S+)/.exec(first.output)?.[1] ?? '',
        password: /password: +(\S+)/.exec(first.output)?.[1] ?? '',
        api_key: /api_key: +(\S+)/.exec(first.output)?.[1] ?? '',
        access_key: /access_key: +(\S+)/.exec(first.output)?.[1] ?? '',
        secret_key: secret,
      };
      registerSecret(org.password);
      // A large request in flight when SIGTERM arrives is answered before the process exits.
      const inFlight = post(`${url}/v1/sign-encrypt`, { 'content-type': 'application/json', ...org }, { data: 'z'.repeat(2 * 1024 * 1024) });
      await new Promise((r) => setTimeout(r, 30));
      stop();
      drained = await inFlight;
    });
    assert.doesNotMatch(second.output, /secret_key/);
    assert.equal(second.exitCode, 0);
    assert.equal(drained?.status, 200, 'the in-flight request was drained, not dropped');
  });
});

/** Runs `pqseal serve` on an ephemeral port until it logs "listening", then sends SIGTERM. */
async function runServeUntilListening(
  dataDir: string,
  whileRunning?: (url: string, stop: () => void) => Promise<void>,
): Promise<{ output: string; exitCode: number | null }> {
  const child = spawn('node', [CLI, 'serve', '--port', '0'], { env: { ...process.env, DATA_DIR: dataDir, PQSEAL_WORKERS: '1' } });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    // A first start creates the demo organisation (key generation, argon2): slow on a loaded machine.
    const timer = setTimeout(() => {
      // Not left running: its open pipes would keep this test file's process alive.
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('pqseal listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  if (whileRunning) await whileRunning(/"url":"([^"]+)"/.exec(output)?.[1] ?? '', () => child.kill('SIGTERM'));
  else child.kill('SIGTERM');
  return { output, exitCode: await exited };
}

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { managedHeaders, post, registerSecret, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/**
 * `@pqseal/sdk` as a user gets it: `npm pack --workspace @pqseal/sdk`, installed into an empty
 * project, imported by a plain Node script that talks to the real server and verifies offline.
 */

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const SDK_DIST = join(ROOT, 'packages', 'sdk', 'dist');
const MESSAGE = 'sealed by the server, verified by the packed SDK';

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : [],
  );
}

describe('the compiled SDK is runtime-neutral', () => {
  test('it imports only itself, @noble/* and its #base64 runtime; only the Node codec touches Buffer', () => {
    const files = jsFiles(SDK_DIST);
    assert.ok(files.length >= 15);
    for (const file of files) {
      const name = relative(SDK_DIST, file);
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const m of code.matchAll(/\bfrom\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)) {
        const spec = (m[1] ?? m[2]) as string;
        assert.ok(spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('@noble/') || spec === '#base64', `${name} imports ${spec}`);
      }
      if (name === join('runtime', 'base64.node.js')) continue;
      assert.doesNotMatch(code, /\bBuffer\b|\bprocess\.|\brequire\(/, `${name} uses a Node-only global`);
    }
  });
});

describe('npm pack --workspace @pqseal/sdk', () => {
  let server: TestServer;
  let org: NewOrganisation;
  let project: string;

  before(async () => {
    server = await startTestServer();
    org = await server.createOrg('Packed SDK Org');
    registerSecret(MESSAGE);
    const packDir = tempDir('pqseal-sdk-pack-');
    const { stdout } = await run('npm', ['pack', '--workspace', '@pqseal/sdk', '--pack-destination', packDir, '--json'], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    assert.ok(packed);
    assert.ok(
      packed.files.some((f) => f.path === 'dist/index.js'),
      'the tarball carries dist/',
    );
    assert.ok(!packed.files.some((f) => f.path.startsWith('src/')));
    project = tempDir('pqseal-sdk-user-');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'sdk-user', private: true, type: 'module' }));
    // The three @noble packages come from npm's cache when it has them (npm ci filled it), else from the registry.
    await run('npm', ['install', join(packDir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, timeout: 180_000 });
  });
  after(() => server?.stop());

  test('installs without server dependencies', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    for (const name of ['better-sqlite3', 'better-sqlite3-node22', 'fastify', 'piscina', '@oqs', '@node-rs', 'kysely', 'jose']) {
      assert.ok(!installed.includes(name), `${name} was installed`);
    }
    assert.deepEqual(readdirSync(join(project, 'node_modules', '@pqseal')), ['sdk']);
    assert.ok(existsSync(join(project, 'node_modules', '@noble', 'post-quantum')));
  });

  test('a Node script imports the client, the typed errors and offline verification; seals on the server, verifies offline', async () => {
    // An envelope sealed over plain HTTP, without the SDK, for the script to verify with no network.
    const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: MESSAGE });
    const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
    const keys = await (await fetch(`${server.url}/v1/keys/${org.org_id}`)).json();
    const handedOver = join(project, 'handed-over.json');
    writeFileSync(handedOver, JSON.stringify({ encryptedData: sealed.json.body.encrypted_data, result: opened.json.body, keys }));

    const script = `
      import { readFileSync } from 'node:fs';
      import { AuthError, Client, CrittoraClient, CrittoraError, PqsealError, managed, verifyOffline } from '@pqseal/sdk';
      import { inspectEnvelope } from '@pqseal/sdk/envelope';
      const { BASE_URL, ORG, HANDED_OVER } = process.env;
      const org = JSON.parse(ORG);
      const out = { aliases: [CrittoraClient === Client, CrittoraError === PqsealError] };
      const given = JSON.parse(readFileSync(HANDED_OVER, 'utf8'));
      out.offlineHandedOver = verifyOffline({ decryptVerifyResult: given.result, encryptedData: given.encryptedData, publicKeys: given.keys }).valid;
      out.offlineTampered = verifyOffline({ decryptVerifyResult: { ...given.result, decrypted_data: 'altered' }, encryptedData: given.encryptedData, publicKeys: given.keys }).reason;
      const credentials = { apiKey: org.api_key, accessKey: org.access_key, secretKey: org.secret_key };
      const client = new Client({ baseUrl: BASE_URL, credentials, auth: managed({ username: org.username, password: org.password }) });
      const { encryptedData } = await client.signEncrypt({ data: 'from the packed SDK' });
      out.owner = inspectEnvelope(encryptedData).header.ownerOrgId;
      const result = await client.decryptVerify({ encryptedData });
      const publicKeys = await client.getPublicKeys(result.signerOrgId);
      out.roundTrip = [result.decryptedData, result.isValidSignature, verifyOffline({ decryptVerifyResult: result, publicKeys }).valid];
      try {
        await client.withAuth(managed({ username: org.username, password: 'not-the-password' })).encrypt({ data: 'x' });
      } catch (e) {
        out.error = [e instanceof AuthError, e instanceof CrittoraError, e.code];
      }
      console.log(JSON.stringify(out));
    `;
    writeFileSync(join(project, 'check.mjs'), script);
    const { stdout } = await run(process.execPath, ['check.mjs'], {
      cwd: project,
      env: { ...process.env, BASE_URL: server.url, ORG: JSON.stringify(org), HANDED_OVER: handedOver },
    });
    assert.deepEqual(JSON.parse(stdout), {
      aliases: [true, true],
      offlineHandedOver: true,
      offlineTampered: 'SIGNATURE_MISMATCH',
      owner: org.org_id,
      roundTrip: ['from the packed SDK', true, true],
      error: [true, true, 'NOT_AUTHORIZED'],
    });
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { inspectEnvelope } from '@pqseal/sdk';
import { ServerProcess, type BenchOrg } from '../../bench/lib/load-server.js';
import { createTestDatabase, randomMasterKey, type TestDatabase } from '../helpers/postgres.js';
import { untilAll } from '../helpers/propagation.js';
import { assertNoSecretsIn, collectLog } from '../helpers/redaction.js';
import { deleteKeys, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { managedHeaders, post, registerSecret, tempDir, type JsonResponse } from '../helpers/server.js';

/**
 * The deployment of docs/deployment.md in small: three `pqseal serve` processes on three ports, one
 * PostgreSQL database, one Redis. Sealed on one node, opened on the others; a revocation made through
 * one node refused on another within 1 s; credentials revoked and keys rotated with the CLI, seen by
 * every node within 1 s; one per-user rate limit for all three; one node killed with SIGKILL while
 * the others keep serving; the audit chains verify afterwards.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;
const PROPAGATION_MS = 1_000;

const childLog = collectLog('pqseal serve processes (three nodes)');
const onLog = (line: string): void => void childLog.push(line);
after(() => assertNoSecretsIn(childLog, 'pqseal serve processes (three nodes)'));

let database: TestDatabase;
const prefix = testPrefix();
const masterKey = randomMasterKey();
registerSecret(masterKey);
let nodes: ServerProcess[] = [];

function sharedEnv(): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    PQSEAL_MASTER_KEY: masterKey,
    REDIS_URL: SHARED_REDIS_URL,
    PQSEAL_REDIS_PREFIX: prefix,
    // The change-log poll slowed to a minute: only Redis pub/sub can carry a change within 1 s.
    PQSEAL_CHANGE_POLL_MS: '60000',
    PQSEAL_RATE_LIMIT_RPS: '1',
    PQSEAL_RATE_LIMIT_BURST: '10',
    PQSEAL_LOGIN_BURST_PER_ADDRESS: '1000',
    PQSEAL_DATABASE_POOL_MAX: '4',
  };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NODE_ENV: 'production', DATA_DIR: tempDir('pqseal-cli-'), PQSEAL_DEMO: 'false', LOG_LEVEL: 'warn', ...sharedEnv() };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function newOrg(name: string): Promise<BenchOrg> {
  const { code, stdout, stderr } = await cli(['org', 'create', '--name', name, '--json']);
  assert.equal(code, 0, stderr);
  const org = JSON.parse(stdout) as BenchOrg;
  registerSecret(org.password, org.secret_key);
  return org;
}

function encrypt(node: ServerProcess, org: BenchOrg, data = 'three nodes'): Promise<JsonResponse> {
  return post(`${node.url}/v1/encrypt`, managedHeaders(org), { data });
}

before(async () => {
  database = await createTestDatabase();
  // Started at the same moment on an empty database: the migrations run once, under their lock.
  nodes = await Promise.all([0, 1, 2].map(() => ServerProcess.start({ dataDir: tempDir('pqseal-node-'), workers: 1, onLog, env: sharedEnv() })));
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await deleteKeys(SHARED_REDIS_URL, prefix);
  await database.drop();
});

describe('three nodes, one PostgreSQL database, one Redis', () => {
  test('sealed on A, opened and verified on B and C', async () => {
    const org = await newOrg('Three Nodes Org');
    const [a, b, c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const sealed = await post(`${a.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'sealed on A' });
    assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
    for (const n of [b, c]) {
      const opened = await post(`${n.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(opened.status, 200, JSON.stringify(opened.json));
      assert.equal(opened.json.body.decrypted_data, 'sealed on A');
      assert.equal(opened.json.body.signed_by, 'Three Nodes Org');
    }
  });

  test('a partner revoked through C is refused on A within 1 s', async () => {
    const [owner, partner] = [await newOrg('Sharing Owner Org'), await newOrg('Sharing Partner Org')];
    const [a, , c] = nodes as [ServerProcess, ServerProcess, ServerProcess];
    const sealed = await post(`${a.url}/v1/sign-encrypt`, managedHeaders(owner), {
      data: 'shared',
      permissions: [{ partner_id: partner.org_id, permissions: ['read'] }],
    });
    assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
    const openOnA = () => post(`${a.url}/v1/decrypt`, managedHeaders(partner), { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal((await openOnA()).status, 200, 'the partner opens it on A before the revocation');
    const revoked = await post(`${c.url}/v1/permissions/revoke`, managedHeaders(owner), { partner_id: partner.org_id });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.json));
    await untilAll([a], async () => (await openOnA()).status === 403, PROPAGATION_MS, 'revoked partner refused on A');
  });

  test('credentials revoked with the CLI are refused on every node within 1 s', async () => {
    const org = await newOrg('Revoked Credentials Org');
    for (const n of nodes) assert.equal((await encrypt(n, org)).status, 200, 'accepted (and cached) before');
    const listed = JSON.parse((await cli(['creds', 'list', '--org', org.org_id, '--json'])).stdout) as { credentials: { id: string }[] };
    const id = listed.credentials[0]?.id;
    assert.ok(id);
    assert.equal((await cli(['creds', 'revoke', '--id', id])).code, 0);
    await untilAll(nodes, async (n) => (await encrypt(n, org)).status === 403, PROPAGATION_MS, 'revoked credentials refused');
  });

  test('a key rotation made with the CLI is used by every node within 1 s', async () => {
    const org = await newOrg('Rotated Keys Org');
    const kemKeyOf = async (n: ServerProcess): Promise<string> => {
      const res = await encrypt(n, org);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return inspectEnvelope(res.json.body.encrypted_data as string).kemKeyId;
    };
    const before = new Set(await Promise.all(nodes.map(kemKeyOf)));
    assert.equal(before.size, 1);
    const rotated = await cli(['keys', 'rotate', '--org', org.org_id, '--json']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKemKey = (JSON.parse(rotated.stdout) as { kem_key_id: string }).kem_key_id;
    assert.ok(!before.has(newKemKey));
    await untilAll(nodes, async (n) => (await kemKeyOf(n)) === newKemKey, PROPAGATION_MS, 'new keys used');
  });

  test('one per-user rate limit across the three nodes (burst 10, 1/s)', async () => {
    const org = await newOrg('Rate Limited Org');
    const started = Date.now();
    const answers: { node: number; status: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const node = i % 3;
      answers.push({ node, status: (await encrypt(nodes[node] as ServerProcess, org, 'x')).status });
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    const accepted = answers.filter((a) => a.status === 200).length;
    assert.ok(
      answers.every((a) => a.status === 200 || a.status === 429),
      JSON.stringify(answers),
    );
    // Three per-node budgets would let 30 through; one shared budget lets the burst plus the refill.
    assert.ok(accepted >= 10 && accepted <= 10 + Math.ceil(elapsedSeconds) + 1, `${accepted} accepted in ${elapsedSeconds} s`);
    assert.equal(new Set(answers.filter((a) => a.status === 429).map((a) => a.node)).size, 3, 'every node refuses once the shared budget is spent');
  });

  test('kill -9 one node under load: the other two keep serving, and every audit chain verifies', { timeout: 180_000 }, async () => {
    const orgs = await Promise.all([0, 1, 2, 3].map((i) => newOrg(`Load Org ${i}`)));
    const victim = nodes[1] as ServerProcess;
    const survivors = [nodes[0], nodes[2]] as ServerProcess[];
    let killed = false;
    const failuresAfterKill: string[] = [];
    let servedAfterKill = 0;
    // Each client stays within its organisation's budget (burst 10, 1/s): 10 requests over ~2 s.
    const client = async (org: BenchOrg, c: number): Promise<void> => {
      for (let i = 0; i < 10; i++) {
        const node = nodes[(c + i) % 3] as ServerProcess;
        const killedBefore = killed;
        try {
          const res = await post(`${node.url}/v1/sign-encrypt`, managedHeaders(org), { data: `load ${c}/${i}` });
          if (node !== victim || !killedBefore) assert.equal(res.status, 200, JSON.stringify(res.json));
          if (killedBefore && node !== victim) servedAfterKill++;
        } catch (error) {
          // Only the killed node may fail, and only once it was killed.
          if (node !== victim || !killed) throw error;
          if (killedBefore) failuresAfterKill.push(String(error));
        }
        await sleep(150);
      }
    };
    const load = Promise.all(orgs.map((org, c) => client(org, c)));
    await sleep(600);
    victim.child.kill('SIGKILL');
    killed = true;
    await load;
    assert.ok(servedAfterKill > 0, 'the surviving nodes served requests after the kill');
    for (const n of survivors) assert.equal((await fetch(`${n.url}/readyz`)).status, 200);
    const verified = await cli(['audit', 'verify', '--json']);
    assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
  });
});

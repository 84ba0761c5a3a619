import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { createTestDatabase, randomMasterKey, type TestDatabase } from '../helpers/postgres.js';
import { managedHeaders, post, registerSecret, tempDir } from '../helpers/server.js';

/**
 * Stateless nodes on one PostgreSQL database (issue 12, items 1, 3, 4): two `pqseal serve` processes
 * started at the same moment on a fresh database, the CLI beside them, load on both, one node killed
 * with SIGKILL mid-load, and `pqseal audit verify` over the result.
 */

const run = promisify(execFile);
const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

interface Node {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dataDir: string;
  output: string;
}

let database: TestDatabase;
const masterKey = randomMasterKey();
registerSecret(masterKey);
const nodes: Node[] = [];

function nodeEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: database.url,
    PQSEAL_MASTER_KEY: masterKey,
    // A node of a shared store has no DATA_DIR of its own: point it at an empty folder to prove it writes nothing there.
    DATA_DIR: tempDir('pqseal-node-'),
    PQSEAL_WORKERS: '1',
    PQSEAL_LOGIN_BURST_PER_ADDRESS: '1000',
    PQSEAL_DATABASE_POOL_MAX: '4',
    PQSEAL_AUDIT_FLUSH_MS: '2',
    // The load test is about the store: no per-user request budget in the way.
    PQSEAL_RATE_LIMIT_RPS: '0',
  };
}

async function startNode(): Promise<Node> {
  const env = nodeEnv();
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node did not start:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"([^"]+)"[^\n]*pqseal listening/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`node exited (${code}) before listening:\n${output}`)));
  });
  const node: Node = { child, url, dataDir: env.DATA_DIR as string, output };
  const keep = (chunk: Buffer) => (node.output += chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  nodes.push(node);
  return node;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = nodeEnv()): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

async function query<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

before(async () => {
  database = await createTestDatabase();
});

after(async () => {
  for (const node of nodes) node.child.kill('SIGKILL');
  await database.drop();
});

describe('two nodes on one PostgreSQL database', () => {
  let a: Node;
  let b: Node;
  let org: NewOrganisation;

  test('started at the same moment on a fresh database: one schema, one JWT signing key, one service key, no key file', async () => {
    [a, b] = await Promise.all([startNode(), startNode()]);
    const migrations = await query<{ name: string; n: string }>('select name, count(*) as n from kysely_migration group by name');
    assert.ok(migrations.length >= 5);
    assert.ok(migrations.every((m) => Number(m.n) === 1));
    // The node that lost the race adopted the winner's key instead of adding its own.
    assert.equal((await query('select kid from signing_keys_jwt')).length, 1);
    assert.equal((await query('select kid from signing_keys_jwt where active = 1')).length, 1);
    assert.equal((await query('select id from service_keys')).length, 1);
    const [docA, docB] = await Promise.all([fetch(`${a.url}/v1/keys/service`).then((r) => r.json()), fetch(`${b.url}/v1/keys/service`).then((r) => r.json())]);
    assert.deepEqual(docA, docB);
    for (const node of [a, b]) assert.deepEqual(readdirSync(node.dataDir), [], 'a node of a shared store writes nothing to DATA_DIR (no master.key)');
  });

  test('the CLI honours DATABASE_URL: an organisation it creates is served by both nodes', async () => {
    const created = await cli(['org', 'create', '--name', 'Cluster Org', '--json']);
    assert.equal(created.code, 0, created.stderr);
    org = JSON.parse(created.stdout) as NewOrganisation;
    registerSecret(org.password, org.secret_key);
    const sealed = await post(`${a.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'sealed on A' });
    assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
    const opened = await post(`${b.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.status, 200, JSON.stringify(opened.json));
    assert.equal(opened.json.body.decrypted_data, 'sealed on A');
    assert.equal(opened.json.body.is_valid_signature, true);
  });

  test('credentials revoked with the CLI are refused on both nodes within 1 s (the change log, on PostgreSQL)', async () => {
    const created = await cli(['org', 'create', '--name', 'Revoked Cluster Org', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const victim = JSON.parse(created.stdout) as NewOrganisation;
    registerSecret(victim.password, victim.secret_key);
    // Both nodes have the login cached.
    for (const node of [a, b]) assert.equal((await post(`${node.url}/v1/sign-encrypt`, managedHeaders(victim), { data: 'x' })).status, 200);
    const listed = JSON.parse((await cli(['creds', 'list', '--org', victim.org_id, '--json'])).stdout) as { credentials: { id: string }[] };
    const revoked = await cli(['creds', 'revoke', '--id', listed.credentials[0]?.id ?? '']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const revokedAt = Date.now(); // committed by the time the CLI exits
    for (const node of [a, b]) {
      let status = 0;
      while (Date.now() - revokedAt < 1_000) {
        status = (await post(`${node.url}/v1/sign-encrypt`, managedHeaders(victim), { data: 'x' })).status;
        if (status === 403) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 403, `refused on ${node.url} within 1 s of the revoke`);
    }
  });

  test('a node without PQSEAL_MASTER_KEY refuses to start and creates no key file', async () => {
    const base = nodeEnv();
    const env = { ...base, PQSEAL_MASTER_KEY: '' };
    const result = await cli(['org', 'list'], env);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PQSEAL_MASTER_KEY/);
    assert.deepEqual(readdirSync(base.DATA_DIR as string), []);
  });

  test('load on both nodes, one killed with SIGKILL mid-load: the other keeps serving, and pqseal audit verify passes', async () => {
    let stop = false;
    const statuses = { a: new Map<number, number>(), b: new Map<number, number>() };
    const load = async (node: Node, tally: Map<number, number>) => {
      while (!stop) {
        const res = await post(`${node.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'load' }).catch(() => undefined);
        if (res) tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
        else if (node === a) return; // A is gone
      }
    };
    const workers = [...Array.from({ length: 4 }, () => load(a, statuses.a)), ...Array.from({ length: 4 }, () => load(b, statuses.b))];
    await new Promise((r) => setTimeout(r, 1500));
    a.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    const bBefore = statuses.b.get(200) ?? 0;
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(workers);
    assert.ok((statuses.a.get(200) ?? 0) > 0, `A served: ${JSON.stringify([...statuses.a])}`);
    assert.ok((statuses.b.get(200) ?? 0) > bBefore, `B kept serving after A died: ${JSON.stringify([...statuses.b])}`);
    for (const [status] of [...statuses.a, ...statuses.b]) assert.equal(status, 200);
    process.stderr.write(`load: A ${JSON.stringify([...statuses.a])}, B ${JSON.stringify([...statuses.b])}\n`);

    // One chain per organisation although two nodes appended to it at once.
    const chains = await query<{ chain_id: string; n: string; max: string }>(
      `select chain_id, count(*) as n, max(seq) as max from audit_records where chain_id = '${org.org_id}' group by chain_id`,
    );
    assert.equal(chains.length, 1);
    assert.equal(Number(chains[0]?.n), Number(chains[0]?.max), 'seq runs 1..n without a gap or a fork');
    const verified = await cli(['audit', 'verify', '--json']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });

  test('checkpoints are signed by one node at a time (leader lock), and verify', async () => {
    const checkpoint = await cli(['audit', 'checkpoint']);
    assert.equal(checkpoint.code, 0, checkpoint.stderr);
    const verified = await cli(['audit', 'verify', '--json']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    b.child.kill('SIGTERM');
    await new Promise((resolve) => b.child.once('exit', resolve));
    assert.doesNotMatch(b.output, new RegExp(masterKey));
    assert.doesNotMatch(b.output, /password=|postgres:\/\/[^"@]*:[^"@]*@/);
  });
});

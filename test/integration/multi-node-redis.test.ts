import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { inspectEnvelope } from '@pqseal/sdk';
import { createOrganisation, serverEnv, ServerProcess, type BenchOrg } from '../../bench/lib/load-server.js';
import { untilAll } from '../helpers/propagation.js';
import { assertNoSecretsIn, collectLog } from '../helpers/redaction.js';
import { deleteKeys, PrivateRedis, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';
import { managedHeaders, post, registerSecret, tempDataDir, type JsonResponse } from '../helpers/server.js';

/**
 * Several `pqseal serve` processes on one DATA_DIR (SQLite allows it) and, when set, one Redis:
 * global per-user rate limits; changes made with the CLI (credentials revoked, user disabled, keys
 * rotated) refused or used on every node within 1 s — over Redis pub/sub, and without Redis over the
 * store's change log; Redis down: 503 with Retry-After, /readyz not ready, recovery without restart.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;
const PROPAGATION_MS = 1_000;

const childLog = collectLog('pqseal serve processes (multi-node)');
const onLog = (line: string): void => void childLog.push(line);
after(() => assertNoSecretsIn(childLog, 'pqseal serve processes (multi-node)'));

function nodeEnv(redisUrl: string | undefined, prefix: string): Record<string, string> {
  return {
    // With Redis, the change-log poll is slowed down to a minute: only pub/sub can make the 1 s.
    ...(redisUrl ? { REDIS_URL: redisUrl, PQSEAL_REDIS_PREFIX: prefix, PQSEAL_CHANGE_POLL_MS: '60000' } : {}),
    PQSEAL_RATE_LIMIT_RPS: '1',
    PQSEAL_RATE_LIMIT_BURST: '10',
    PQSEAL_LOGIN_BURST_PER_ADDRESS: '1000',
  };
}

async function cli(dataDir: string, env: Record<string, string>, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { env: { ...serverEnv(dataDir), ...env }, timeout: 30_000 });
  return stdout;
}

async function newOrg(dataDir: string, name: string): Promise<BenchOrg> {
  const org = await createOrganisation(dataDir, name);
  registerSecret(org.password, org.secret_key);
  return org;
}

function encrypt(server: ServerProcess, org: BenchOrg, data = 'multi-node payload'): Promise<JsonResponse> {
  return post(`${server.url}/v1/encrypt`, managedHeaders(org), { data });
}

for (const transport of ['redis', 'change log'] as const) {
  describe(`two server processes, one DATA_DIR, changes carried by ${transport}`, () => {
    const prefix = testPrefix();
    const redisUrl = transport === 'redis' ? SHARED_REDIS_URL : undefined;
    // Without Redis the CLI has nothing to publish on: only the servers' change-log poll can tell them.
    const cliEnv: Record<string, string> = redisUrl ? { REDIS_URL: redisUrl, PQSEAL_REDIS_PREFIX: prefix } : {};
    const dataDir = tempDataDir();
    let nodes: ServerProcess[] = [];

    before(async () => {
      await newOrg(dataDir, 'Bootstrap Org'); // migrations run once, before the nodes start
      nodes = await Promise.all([0, 1].map(() => ServerProcess.start({ dataDir, workers: 1, onLog, env: nodeEnv(redisUrl, prefix) })));
    });
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      if (redisUrl) await deleteKeys(redisUrl, prefix);
    });

    if (transport === 'redis') {
      test('one per-user rate limit across both nodes (burst 10, 1/s)', async () => {
        const org = await newOrg(dataDir, 'Rate Limited Org');
        const started = Date.now();
        const answers: { node: number; status: number; retryAfter: string | null }[] = [];
        for (let i = 0; i < 24; i++) {
          const node = i % 2;
          const res = await fetch(`${nodes[node]!.url}/v1/encrypt`, { method: 'POST', headers: managedHeaders(org), body: JSON.stringify({ data: 'x' }) });
          await res.arrayBuffer();
          answers.push({ node, status: res.status, retryAfter: res.headers.get('retry-after') });
        }
        const elapsedSeconds = (Date.now() - started) / 1000;
        const ok = answers.filter((a) => a.status === 200).length;
        const limited = answers.filter((a) => a.status === 429);
        assert.equal(ok + limited.length, answers.length, JSON.stringify(answers));
        // Per-node buckets would let 20 through; one shared bucket lets the burst plus the refill.
        assert.ok(ok >= 10 && ok <= 10 + Math.ceil(elapsedSeconds) + 1, `${ok} accepted in ${elapsedSeconds} s`);
        assert.ok(new Set(limited.map((a) => a.node)).size === 2, 'both nodes refuse once the shared budget is spent');
        assert.ok(
          limited.every((a) => Number(a.retryAfter) >= 1),
          'with Retry-After',
        );
      });
    }

    test('credentials revoked with the CLI are refused on both nodes within 1 s', async () => {
      const org = await newOrg(dataDir, `Revoked Creds Org ${transport}`);
      for (const n of nodes) assert.equal((await encrypt(n, org)).status, 200, 'accepted (and cached) before');
      const listed = JSON.parse(await cli(dataDir, cliEnv, ['creds', 'list', '--org', org.org_id, '--json'])) as { credentials: { id: string }[] };
      const id = listed.credentials[0]?.id;
      assert.ok(id);
      await cli(dataDir, cliEnv, ['creds', 'revoke', '--id', id]);
      const ms = await untilAll(nodes, async (n) => (await encrypt(n, org)).status === 403, PROPAGATION_MS, 'revoked credentials refused');
      process.stdout.write(`# ${transport}: credentials revoke reached both nodes ${ms} ms after the CLI exited\n`);
    });

    test('a user disabled with the CLI is refused on both nodes within 1 s', async () => {
      const org = await newOrg(dataDir, `Disabled User Org ${transport}`);
      for (const n of nodes) assert.equal((await encrypt(n, org)).status, 200, 'accepted (and cached) before');
      await cli(dataDir, cliEnv, ['user', 'disable', '--username', org.username]);
      const ms = await untilAll(nodes, async (n) => (await encrypt(n, org)).status === 401, PROPAGATION_MS, 'disabled user refused');
      process.stdout.write(`# ${transport}: user disable reached both nodes ${ms} ms after the CLI exited\n`);
    });

    test('a key rotation made with the CLI is used by both nodes within 1 s', async () => {
      const org = await newOrg(dataDir, `Rotated Keys Org ${transport}`);
      const kemKeyOf = async (n: ServerProcess): Promise<string> => {
        const res = await encrypt(n, org);
        assert.equal(res.status, 200, JSON.stringify(res.json));
        return inspectEnvelope(res.json.body.encrypted_data as string).kemKeyId;
      };
      const before = await Promise.all(nodes.map(kemKeyOf));
      assert.equal(before[0], before[1]);
      const rotated = JSON.parse(await cli(dataDir, cliEnv, ['keys', 'rotate', '--org', org.org_id, '--json'])) as { kem_key_id: string };
      assert.notEqual(rotated.kem_key_id, before[0]);
      const ms = await untilAll(nodes, async (n) => (await kemKeyOf(n)) === rotated.kem_key_id, PROPAGATION_MS, 'new keys used');
      process.stdout.write(`# ${transport}: key rotation reached both nodes ${ms} ms after the CLI exited\n`);
    });

    test('an organisation renamed with the CLI signs with its new name on both nodes within 1 s', async () => {
      const org = await newOrg(dataDir, `Old Name Org ${transport}`);
      const signedBy = async (n: ServerProcess): Promise<string> => {
        const sealed = await post(`${n.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'named' });
        assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
        const opened = await post(`${n.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
        assert.equal(opened.status, 200, JSON.stringify(opened.json));
        return opened.json.body.signed_by as string;
      };
      for (const n of nodes) assert.equal(await signedBy(n), `Old Name Org ${transport}`, 'the old name is cached');
      const renamed = `New Name Org ${transport}`;
      await cli(dataDir, cliEnv, ['org', 'rename', '--org', org.org_id, '--name', renamed]);
      const ms = await untilAll(nodes, async (n) => (await signedBy(n)) === renamed, PROPAGATION_MS, 'new name used');
      process.stdout.write(`# ${transport}: rename reached both nodes ${ms} ms after the CLI exited\n`);
    });
  });
}

describe('Redis down (a private redis-server, killed and restarted)', () => {
  const prefix = testPrefix();
  let redis: PrivateRedis;
  let node: ServerProcess;
  const dataDir = tempDataDir();
  let org: BenchOrg;

  before(async () => {
    redis = await PrivateRedis.start();
    org = await newOrg(dataDir, 'Redis Outage Org');
    node = await ServerProcess.start({ dataDir, workers: 1, onLog, env: nodeEnv(redis.url, prefix) });
  });
  after(async () => {
    await node.stop();
    await redis.stop();
  });

  test('rate-limited requests get 503 RATE_LIMIT_UNAVAILABLE with Retry-After, /readyz 503, and all recovers without a restart', async () => {
    assert.equal((await encrypt(node, org)).status, 200);
    assert.equal((await fetch(`${node.url}/readyz`)).status, 200);

    await redis.stop();
    const started = Date.now();
    const refused = await fetch(`${node.url}/v1/encrypt`, { method: 'POST', headers: managedHeaders(org), body: JSON.stringify({ data: 'x' }) });
    const body = (await refused.json()) as { statusCode: number; body: { error: { code: string } } };
    assert.equal(refused.status, 503, JSON.stringify(body));
    assert.equal(body.body.error.code, 'RATE_LIMIT_UNAVAILABLE', JSON.stringify(body));
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After');
    assert.ok(Date.now() - started < 2_000, `refused fast (${Date.now() - started} ms)`);
    // Logins are refused before any password check too: the per-address budget lives in Redis.
    const login = await post(
      `${node.url}/`,
      { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
      {
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: 'pqseal',
        AuthParameters: { USERNAME: org.username, PASSWORD: 'not the password' },
      },
    );
    assert.equal(login.status, 503, JSON.stringify(login.json));
    assert.equal((await fetch(`${node.url}/readyz`)).status, 503, 'not ready while Redis is unreachable');
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200, 'but alive');

    await redis.restart();
    const ms = await untilAll(
      [node],
      async (n) => (await fetch(`${n.url}/readyz`)).status === 200 && (await encrypt(n, org)).status === 200,
      10_000,
      'recovered',
    );
    process.stdout.write(`# recovered ${ms} ms after redis-server was back\n`);
  });

  test('while the invalidation subscription is down nothing cached is honoured: a CLI change applies at once', async () => {
    // No rate limits (nothing asks Redis per request) and a change-log poll slowed to a minute:
    // only the bypass of the caches can make the disable below take effect at once.
    const unlimited = await ServerProcess.start({
      dataDir,
      workers: 1,
      onLog,
      env: {
        REDIS_URL: redis.url,
        PQSEAL_REDIS_PREFIX: prefix,
        PQSEAL_RATE_LIMIT_RPS: '0',
        PQSEAL_LOGIN_RATE_PER_ADDRESS: '0',
        PQSEAL_CHANGE_POLL_MS: '60000',
      },
    });
    try {
      const victim = await newOrg(dataDir, 'Stale Cache Org');
      assert.equal((await encrypt(unlimited, victim)).status, 200, 'accepted and cached while Redis is up');
      await redis.stop();
      await untilAll([unlimited], async (n) => (await fetch(`${n.url}/readyz`)).status === 503, 5_000, 'not ready');
      await cli(dataDir, {}, ['user', 'disable', '--username', victim.username]);
      const refused = await encrypt(unlimited, victim);
      assert.equal(refused.status, 401, `a disabled user's cached login is not honoured: ${JSON.stringify(refused.json)}`);
    } finally {
      await unlimited.stop();
      await redis.restart();
    }
  });
});

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadConfig, type Config } from '../../src/config.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { ServiceOptions } from '../../src/services.js';
import { createTestDatabase, randomMasterKey, TEST_ON_POSTGRES, type TestDatabase } from './postgres.js';
import { assertNoSecretsIn, collectLog, registerSecret } from './redaction.js';

export { registerSecret } from './redaction.js';

/** Screenshots and other files a test run leaves for a person to look at. */
export const RESULTS_DIR = new URL('../../../test-results/', import.meta.url).pathname;
mkdirSync(RESULTS_DIR, { recursive: true });

export interface TestServer extends RunningServer {
  readonly dataDir: string;
  readonly logs: string[];
  createOrg(name: string): Promise<NewOrganisation>;
  /** Closes the server, then fails with `SecretInLogError` if its log holds a registered secret (test/helpers/redaction.ts). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

const createdDirs: string[] = [];
// Each test file runs in its own process: whatever it made under the system temp folder goes when it
// exits, whether or not the test that made it got to its own clean-up.
process.once('exit', () => {
  for (const dir of createdDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // e.g. still a mount point or immutable after a failed test: nothing more to do at exit.
    }
  }
});

/** A fresh folder under the system temp folder, removed when the test process exits. */
export function tempDir(prefix = 'pqseal-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

export function tempDataDir(): string {
  return tempDir();
}

/**
 * With PQSEAL_TEST_DATABASE=postgres, a data directory stands for a PostgreSQL database of its own and
 * a master key: a server restarted on the same data directory finds the same database.
 */
const postgresFor = new Map<string, { database: TestDatabase; masterKey: string }>();

async function postgresOverrides(dataDir: string, overrides: Partial<Config>, env: Record<string, string>): Promise<Partial<Config>> {
  if (!TEST_ON_POSTGRES || overrides.databaseUrl !== undefined || env.DATABASE_URL !== undefined) return {};
  let entry = postgresFor.get(dataDir);
  if (!entry) {
    entry = { database: await createTestDatabase(), masterKey: randomMasterKey() };
    postgresFor.set(dataDir, entry);
  }
  return { databaseUrl: entry.database.url, masterKey: overrides.masterKey ?? env.PQSEAL_MASTER_KEY ?? entry.masterKey };
}

/**
 * The environment that points a `pqseal` CLI process at the same store as the test server on
 * `dataDir`: DATA_DIR, plus DATABASE_URL and PQSEAL_MASTER_KEY when it runs on PostgreSQL.
 */
export function storeEnv(dataDir: string): Record<string, string> {
  const entry = postgresFor.get(dataDir);
  return entry ? { DATA_DIR: dataDir, DATABASE_URL: entry.database.url, PQSEAL_MASTER_KEY: entry.masterKey } : { DATA_DIR: dataDir };
}

/**
 * Starts the real server on an ephemeral loopback port with a fresh (or given) data directory.
 * `serviceOptions` passes e.g. an injectable clock (`now`) to the services.
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  env: Record<string, string> = {},
  serviceOptions: ServiceOptions = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? tempDataDir();
  // Test files log in from 127.0.0.1 far more often than one client would: a generous per-address
  // login budget unless the test sets its own (test/integration/server.logins.test.ts). One crypto
  // worker unless the test asks for more: every worker compiles the crypto libraries as it starts,
  // and test files run side by side on a few cores.
  const config = loadConfig(
    { PQSEAL_LOGIN_BURST_PER_ADDRESS: '1000', ...env },
    { port: 0, host: '127.0.0.1', dataDir, demo: false, workers: 1, logLevel: 'info', ...(await postgresOverrides(dataDir, overrides, env)), ...overrides },
  );
  const where = `the test server on ${dataDir}`;
  const logs = collectLog(where);
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(line);
  });
  const running = await startServer(config, { logStream: stream, quiet: true, serviceOptions });
  return {
    ...running,
    dataDir,
    logs,
    async createOrg(name) {
      const org = await running.services.createOrganisation(name);
      registerSecret(org.password, org.secret_key);
      return org;
    },
    async stop(options = {}) {
      await running.close();
      if (!options.keepData) {
        rmSync(dataDir, { recursive: true, force: true });
        await postgresFor.get(dataDir)?.database.drop();
        postgresFor.delete(dataDir);
      }
      assertNoSecretsIn(logs, where);
    },
  };
}

export function managedHeaders(org: NewOrganisation): Record<string, string> {
  return {
    'Content-Type': 'application/json',
    username: org.username,
    password: org.password,
    api_key: org.api_key,
    access_key: org.access_key,
    secret_key: org.secret_key,
  };
}

export function partnerHeaders(org: NewOrganisation): Record<string, string> {
  return { api_key: org.api_key, access_key: org.access_key, secret_key: org.secret_key };
}

export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON response bodies: the tests assert their shape field by field
  readonly json: any;
}

export async function post(url: string, headers: Record<string, string>, body: unknown): Promise<JsonResponse> {
  const h = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  const res = await fetch(url, { method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
}

/** Logs in through the InitiateAuth wire call and returns the IdToken. */
export async function login(baseUrl: string, org: NewOrganisation): Promise<{ IdToken: string; AccessToken: string; RefreshToken: string; ExpiresIn: number }> {
  const res = await fetch(`${baseUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' },
    body: JSON.stringify({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'pqseal', AuthParameters: { USERNAME: org.username, PASSWORD: org.password } }),
  });
  const json = (await res.json()) as { AuthenticationResult: { IdToken: string; AccessToken: string; RefreshToken: string; ExpiresIn: number } };
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(json)}`);
  return json.AuthenticationResult;
}

/** Everything the store holds for the test server on `dataDir`: the SQLite file and its WAL, or a data dump of its PostgreSQL database. */
export function readDbBytes(dataDir: string): Buffer {
  const entry = postgresFor.get(dataDir);
  if (entry) return execFileSync('pg_dump', ['--data-only', '--dbname', entry.database.url], { maxBuffer: 256 * 1024 * 1024 });
  const files = ['pqseal.db', 'pqseal.db-wal'].map((f) => {
    try {
      return readFileSync(join(dataDir, f));
    } catch {
      return Buffer.alloc(0);
    }
  });
  return Buffer.concat(files);
}

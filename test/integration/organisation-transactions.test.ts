import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { NewOrganisation } from '../../src/core/organisations.js';
import type { CompositeSignature } from '../../src/crypto/composite-signature.js';
import { loadProviders, type CryptoProviders } from '../../src/crypto/providers.js';
import type { XWing } from '../../src/crypto/x-wing.js';
import { findByUsername } from '../../src/identity/users.js';
import { generateOrgKeys, listOrgKeys } from '../../src/keys/org-keys.js';
import { onboardOrganisation } from '../../src/core/onboarding.js';
import { verifyCredentials } from '../../src/partners/credentials.js';
import { createOrganisation, listOrganisations } from '../../src/partners/organisations.js';
import type { Store } from '../../src/ports/store.js';
import { openStore } from '../../src/store/database.js';
import type { Database } from '../../src/ports/store-schema.js';
import { openSqliteConnection, type SqliteConnection } from '../../src/store/sqlite-connection.js';
import { managedHeaders, post, registerSecret, startTestServer, storeEnv, tempDataDir, type TestServer } from '../helpers/server.js';
import { MasterKeyEncryption } from '../../src/keys/master-key.js';
import { sqliteOnly } from '../helpers/postgres.js';

/**
 * Creating an organisation (row, name, key pairs, user, credentials) and rotating its keys are each
 * one transaction: a failure at any step leaves nothing behind. The failures are real database
 * errors — a trigger the test installs in its own store — and the expensive work (key generation)
 * runs before the write lock is taken.
 */

const INJECTED = 'injected failure';
const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

const TABLES = ['organisations', 'users', 'org_keys', 'credentials'] as const;

/** Row counts of the tables an organisation has rows in. */
async function rowCounts(db: Kysely<Database>): Promise<Record<(typeof TABLES)[number], number>> {
  const counts = await Promise.all(
    TABLES.map(async (table) => {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return [table, Number(row.n)] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<(typeof TABLES)[number], number>;
}

/** A real database failure: a trigger that aborts inserts into `table` (where `when` holds); returns its removal. */
async function failInserts(db: Kysely<Database>, table: 'credentials' | 'org_keys', when = 'true'): Promise<() => Promise<void>> {
  const name = sql.raw(`fail_${table}`);
  await sql`create trigger ${name} before insert on ${sql.raw(table)} when ${sql.raw(when)}
    begin select raise(abort, ${sql.lit(INJECTED)}); end`.execute(db);
  return async () => {
    await sql`drop trigger ${name}`.execute(db);
  };
}

const injected = (e: unknown): boolean => e instanceof Error && e.message.includes(INJECTED);
const cliInjected = (e: { code?: number; stderr?: string }): boolean => e.code !== 0 && (e.stderr ?? '').includes(INJECTED);

describe('organisation creation is one transaction', { skip: sqliteOnly('injects the failure with a second SQLite connection') }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('a failure storing the credentials leaves no organisation, name, keys or user; the same name can then be created', async () => {
    const existing = await server.createOrg('Standing Org');
    const db = server.services.store.db;
    const before = await rowCounts(db);

    const allowInserts = await failInserts(db, 'credentials');
    await assert.rejects(server.createOrg('Halfway Ltd'), injected);
    await allowInserts();

    assert.deepEqual(await rowCounts(db), before, 'no organisation row, user, key pair or credential set remains');
    assert.deepEqual(
      (await listOrganisations(server.services.store)).map((o) => o.name),
      ['Standing Org'],
    );

    const org = await server.createOrg('Halfway Ltd');
    assert.equal(org.name, 'Halfway Ltd', 'the name is free');
    const h = managedHeaders(org);
    const sealed = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'complete organisation' });
    assert.equal(sealed.status, 200, 'the recreated organisation has its user, credentials and keys');
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.json.body.signer_key_id, `${org.org_id}.sig.v1`);
    assert.equal((await post(`${server.url}/v1/sign-encrypt`, managedHeaders(existing), { data: 'unaffected' })).status, 200);
  });
});

describe('key rotation is one transaction', { skip: sqliteOnly('injects the failure with a second SQLite connection') }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('a failure storing the new KEM key leaves the previous versions intact and active', async () => {
    const org = await server.createOrg('Rotation Failure Org');
    const h = managedHeaders(org);
    const sealedBefore = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'sealed under v1' });

    const allowInserts = await failInserts(server.services.store.db, 'org_keys', `new.kind = 'kem'`);
    await assert.rejects(server.services.rotateKeys(org.org_id), injected);
    await allowInserts();

    const keys = await listOrgKeys(server.services.store.db, org.org_id);
    assert.deepEqual(keys.map((k) => k.id).sort(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`], 'no half of a new version was stored');
    const sealed = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'still v1' });
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.json.body.signer_key_id, `${org.org_id}.sig.v1`, 'v1 is still the active version');
    const old = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealedBefore.json.body.encrypted_data });
    assert.equal(old.json.body.decrypted_data, 'sealed under v1');

    const rotated = await server.services.rotateKeys(org.org_id);
    const next = [rotated.signingKeyId, rotated.kemKeyId];
    assert.deepEqual(next, [`${org.org_id}.sig.v2`, `${org.org_id}.kem.v2`], 'the next rotation makes v2, no version is skipped');
  });
});

describe('key generation runs before the write lock is taken', () => {
  let dataDir: string;
  let store: Store;
  let other: SqliteConnection;
  let providers: CryptoProviders;
  before(async () => {
    dataDir = tempDataDir();
    store = await openStore({ dataDir });
    // A second connection to the same file, like the audit writer thread's or the CLI's, that does not wait.
    other = openSqliteConnection(join(dataDir, 'pqseal.db'));
    other.raw.pragma('busy_timeout = 0');
    providers = await loadProviders('fastest');
  });
  after(async () => {
    other.close();
    await store.close();
  });

  /** Providers that, each time a key pair is derived, check whether another connection could write now. */
  function probingProviders(writableDuringKeygen: boolean[]): CryptoProviders {
    const probe = (): void => {
      try {
        other.raw.exec('begin immediate');
        other.raw.exec('rollback');
        writableDuringKeygen.push(true);
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        writableDuringKeygen.push(false);
      }
    };
    const composite = Object.create(providers.composite, {
      expandSecret: { value: (seed: Uint8Array) => (probe(), providers.composite.expandSecret(seed)) },
    }) as CompositeSignature;
    const xWing = Object.create(providers.xWing, {
      expand: { value: (seed: Uint8Array) => (probe(), providers.xWing.expand(seed)) },
    }) as XWing;
    return { ...providers, composite, xWing };
  }

  test('rotation: other connections can write while the key pairs are generated', async () => {
    const org = await createOrganisation(store, 'Lock Probe Org');
    const keyEncryption = new MasterKeyEncryption(new Uint8Array(32).fill(7));
    const writable: boolean[] = [];
    await generateOrgKeys(store.db, probingProviders(writable), keyEncryption, org.id);
    await generateOrgKeys(store.db, probingProviders(writable), keyEncryption, org.id);
    assert.deepEqual(writable, [true, true, true, true], 'no write lock is held while keys are derived');
    assert.deepEqual(
      (await listOrgKeys(store.db, org.id)).map((k) => k.version),
      [2, 2, 1, 1],
    );
  });

  test('creation: other connections can write while the key pairs are generated', async () => {
    const writable: boolean[] = [];
    const deps = { store, providers: probingProviders(writable), keyEncryption: new MasterKeyEncryption(new Uint8Array(32).fill(7)), now: Date.now };
    const created = await onboardOrganisation(deps, 'Lock Probe Creation Org');
    registerSecret(created.password, created.secret_key);
    assert.deepEqual(writable, [true, true], 'no write lock is held while keys are derived');
    assert.deepEqual(
      (await listOrgKeys(store.db, created.org_id)).map((k) => k.version),
      [1, 1],
    );
    assert.equal((await findByUsername(store, created.username))?.orgId, created.org_id);
    const partner = await verifyCredentials(store, { apiKey: created.api_key, accessKey: created.access_key, secretKey: created.secret_key });
    assert.equal(partner.orgId, created.org_id);
  });
});

describe('through the CLI', () => {
  test('pqseal org create and keys rotate that fail halfway keep nothing: the name stays free, the previous keys active', async () => {
    const dataDir = tempDataDir();
    const env = { ...process.env, ...storeEnv(dataDir) };
    const pqseal = async (...args: string[]): Promise<unknown> => JSON.parse((await run('node', [CLI, ...args, '--json'], { env })).stdout);
    const store = await openStore({ dataDir });
    try {
      const allowCredentials = await failInserts(store.db, 'credentials');
      await assert.rejects(pqseal('org', 'create', '--name', 'CLI Halfway Ltd'), cliInjected);
      assert.deepEqual(await pqseal('org', 'list'), { organisations: [] });
      await allowCredentials();

      const org = (await pqseal('org', 'create', '--name', 'CLI Halfway Ltd')) as NewOrganisation;
      registerSecret(org.password, org.secret_key);
      const keyIds = async () => ((await pqseal('keys', 'list', '--org', org.org_id)) as { keys: { key_id: string }[] }).keys.map((k) => k.key_id).sort();
      assert.deepEqual(await keyIds(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`]);

      await failInserts(store.db, 'org_keys', `new.kind = 'kem'`);
      await assert.rejects(pqseal('keys', 'rotate', '--org', org.org_id), cliInjected);
      assert.deepEqual(await keyIds(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`]);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

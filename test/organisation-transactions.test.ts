import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { NewOrganisation } from '../src/core/organisations.js';
import type { CompositeSignature } from '../src/crypto/composite-signature.js';
import { loadProviders, type CryptoProviders } from '../src/crypto/providers.js';
import type { XWing } from '../src/crypto/x-wing.js';
import { findByUsername } from '../src/identity/users.js';
import { generateOrgKeys, listOrgKeys } from '../src/keys/org-keys.js';
import { onboardOrganisation } from '../src/onboarding.js';
import { verifyCredentials } from '../src/partners/credentials.js';
import { createOrganisation, listOrganisations } from '../src/partners/organisations.js';
import { openStore, type Store } from '../src/store/database.js';
import { openSqliteConnection, type SqliteConnection } from '../src/store/sqlite-connection.js';
import { managedHeaders, post, registerSecret, startTestServer, tempDataDir, type TestServer } from './helpers/server.js';

/**
 * Creating an organisation (row, name, key pairs, user, credentials) and rotating its keys are each
 * one transaction: a failure at any step leaves nothing behind. The failures are real database
 * errors — a trigger the test installs in its own store — and the expensive work (key generation)
 * runs before the write lock is taken.
 */

const INJECTED = 'injected failure';
const run = promisify(execFile);
const CLI = new URL('../../bin/pqseal.js', import.meta.url).pathname;

async function count(server: TestServer, table: 'organisations' | 'users' | 'org_keys' | 'credentials'): Promise<number> {
  const row = await server.services.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function failInserts(server: TestServer, table: 'credentials' | 'org_keys', when = 'true'): Promise<() => Promise<void>> {
  const name = `fail_${table}`;
  await sql`create trigger ${sql.raw(name)} before insert on ${sql.raw(table)} when ${sql.raw(when)} begin select raise(abort, ${sql.lit(INJECTED)}); end`.execute(server.services.store.db);
  return async () => {
    await sql`drop trigger ${sql.raw(name)}`.execute(server.services.store.db);
  };
}

describe('organisation creation is one transaction', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('a failure storing the credentials leaves no organisation, name, keys or user; the same name can then be created', async () => {
    const existing = await server.createOrg('Standing Org');
    const before = { organisations: await count(server, 'organisations'), users: await count(server, 'users'), org_keys: await count(server, 'org_keys'), credentials: await count(server, 'credentials') };

    const allowInserts = await failInserts(server, 'credentials');
    await assert.rejects(server.createOrg('Halfway Ltd'), (e: unknown) => (e as Error).message.includes(INJECTED));
    await allowInserts();

    assert.deepEqual(
      { organisations: await count(server, 'organisations'), users: await count(server, 'users'), org_keys: await count(server, 'org_keys'), credentials: await count(server, 'credentials') },
      before,
      'no organisation row, user, key pair or credential set remains',
    );
    assert.deepEqual((await listOrganisations(server.services.store)).map((o) => o.name), ['Standing Org']);

    const org = await server.createOrg('Halfway Ltd');
    assert.equal(org.name, 'Halfway Ltd', 'the name is free');
    const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'complete organisation' });
    assert.equal(sealed.status, 200, 'the recreated organisation has its user, credentials and keys');
    const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.json.body.signer_key_id, `${org.org_id}.sig.v1`);
    assert.equal((await post(`${server.url}/v1/sign-encrypt`, managedHeaders(existing), { data: 'unaffected' })).status, 200);
  });
});

describe('through the CLI', () => {
  test('pqseal org create and keys rotate that fail halfway keep nothing: the name stays free, the previous keys active', async () => {
    const dataDir = tempDataDir();
    const env = { ...process.env, DATA_DIR: dataDir };
    const store = await openStore({ dataDir });
    const trigger = (table: string, when = 'true') => sql`create trigger ${sql.raw(`fail_${table}`)} before insert on ${sql.raw(table)} when ${sql.raw(when)} begin select raise(abort, ${sql.lit(INJECTED)}); end`.execute(store.db);
    const drop = (table: string) => sql`drop trigger ${sql.raw(`fail_${table}`)}`.execute(store.db);
    try {
      await trigger('credentials');
      await assert.rejects(run('node', [CLI, 'org', 'create', '--name', 'CLI Halfway Ltd', '--json'], { env }), (e: { code?: number; stderr?: string }) => e.code !== 0 && (e.stderr ?? '').includes(INJECTED));
      assert.deepEqual(JSON.parse((await run('node', [CLI, 'org', 'list', '--json'], { env })).stdout), { organisations: [] });
      await drop('credentials');

      const org = JSON.parse((await run('node', [CLI, 'org', 'create', '--name', 'CLI Halfway Ltd', '--json'], { env })).stdout) as NewOrganisation;
      registerSecret(org.password, org.secret_key);
      const keyIds = async () => (JSON.parse((await run('node', [CLI, 'keys', 'list', '--org', org.org_id, '--json'], { env })).stdout) as { keys: { key_id: string }[] }).keys.map((k) => k.key_id).sort();
      assert.deepEqual(await keyIds(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`]);

      await trigger('org_keys', `new.kind = 'kem'`);
      await assert.rejects(run('node', [CLI, 'keys', 'rotate', '--org', org.org_id], { env }), (e: { code?: number; stderr?: string }) => e.code !== 0 && (e.stderr ?? '').includes(INJECTED));
      assert.deepEqual(await keyIds(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`]);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('key rotation is one transaction', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  test('a failure storing the new KEM key leaves the previous versions intact and active', async () => {
    const org = await server.createOrg('Rotation Failure Org');
    const h = managedHeaders(org);
    const sealedBefore = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'sealed under v1' });

    const allowInserts = await failInserts(server, 'org_keys', `new.kind = 'kem'`);
    await assert.rejects(server.services.rotateKeys(org.org_id), (e: unknown) => (e as Error).message.includes(INJECTED));
    await allowInserts();

    const keys = await listOrgKeys(server.services.store.db, org.org_id);
    assert.deepEqual(keys.map((k) => k.id).sort(), [`${org.org_id}.kem.v1`, `${org.org_id}.sig.v1`], 'no half of a new version was stored');
    const sealed = await post(`${server.url}/v1/sign-encrypt`, h, { data: 'still v1' });
    const opened = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.json.body.signer_key_id, `${org.org_id}.sig.v1`, 'v1 is still the active version');
    const old = await post(`${server.url}/v1/decrypt-verify`, h, { encrypted_data: sealedBefore.json.body.encrypted_data });
    assert.equal(old.json.body.decrypted_data, 'sealed under v1');

    const rotated = await server.services.rotateKeys(org.org_id);
    assert.deepEqual([rotated.signingKeyId, rotated.kemKeyId], [`${org.org_id}.sig.v2`, `${org.org_id}.kem.v2`], 'the next rotation makes v2, no version is skipped');
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
    const masterKey = new Uint8Array(32).fill(7);
    const writable: boolean[] = [];
    await generateOrgKeys(store.db, probingProviders(writable), masterKey, org.id);
    await generateOrgKeys(store.db, probingProviders(writable), masterKey, org.id);
    assert.deepEqual(writable, [true, true, true, true], 'no write lock is held while keys are derived');
    assert.deepEqual((await listOrgKeys(store.db, org.id)).map((k) => k.version), [2, 2, 1, 1]);
  });

  test('creation: other connections can write while the key pairs are generated', async () => {
    const writable: boolean[] = [];
    const created = await onboardOrganisation({ store, providers: probingProviders(writable), masterKey: new Uint8Array(32).fill(7), now: Date.now }, 'Lock Probe Creation Org');
    registerSecret(created.password, created.secret_key);
    assert.deepEqual(writable, [true, true], 'no write lock is held while keys are derived');
    assert.deepEqual((await listOrgKeys(store.db, created.org_id)).map((k) => k.version), [1, 1]);
    assert.equal((await findByUsername(store, created.username))?.orgId, created.org_id);
    assert.equal((await verifyCredentials(store, { apiKey: created.api_key, accessKey: created.access_key, secretKey: created.secret_key })).orgId, created.org_id);
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { loadProviders } from '../../src/crypto/providers.js';
import { createUser } from '../../src/identity/users.js';
import { loadMasterKey, MasterKeyEncryption } from '../../src/keys/master-key.js';
import { generateOrgKeys } from '../../src/keys/org-keys.js';
import { createCredentials } from '../../src/partners/credentials.js';
import { findNameConflicts } from '../../src/partners/name-conflicts.js';
import { createOrganisation, listOrganisations } from '../../src/partners/organisations.js';
import type { Store } from '../../src/ports/store.js';
import { DB_FILENAME, openStore } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations.js';
import { openSqliteConnection } from '../../src/store/sqlite-connection.js';
import type { Database } from '../../src/ports/store-schema.js';
import { managedHeaders, post, registerSecret, startTestServer, storeEnv, tempDataDir } from '../helpers/server.js';
import { sqliteOnly } from '../helpers/postgres.js';

/**
 * Organisation names cannot impersonate: invisible, control and bidirectional characters and outer
 * white space are refused (ORG_NAME_INVALID), names are unique up to NFKC, case folding and white
 * space (ORG_NAME_TAKEN), and a store that already holds duplicates upgrades without losing or
 * breaking anything, reports them, and refuses new ones.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

const isCode = (code: string) => (e: unknown) => (e as { code?: unknown }).code === code;

describe('organisation names: the rules', () => {
  let store: Store;
  before(async () => {
    store = await openStore({ filename: ':memory:' });
  });
  after(() => store.close());

  test('format, bidi, control, separator and other invisible characters are refused with ORG_NAME_INVALID', async () => {
    const bad = {
      'right-to-left override U+202E': 'Org A\u202E',
      'zero-width space U+200B': 'Org\u200BA',
      'left-to-right isolate U+2066': '\u2066Org A',
      'zero-width joiner U+200D': 'Org\u200DA',
      'byte order mark U+FEFF': '\uFEFFOrg A',
      'soft hyphen U+00AD': 'Org\u00ADA',
      'tag letter U+E0041': 'Org A\u{E0041}',
      'Hangul filler U+3164': 'Org\u3164A',
      'line separator U+2028': 'Org\u2028A',
      'paragraph separator U+2029': 'Org\u2029A',
      newline: 'Org\nA',
      NUL: 'Org\u0000A',
      'private use U+E000': 'Org \uE000',
      'lone surrogate': 'Org \uD800',
      'leading space': ' Org A',
      'trailing space': 'Org A ',
      'trailing no-break space': 'Org A\u00A0',
      empty: '',
      'too long': 'x'.repeat(201),
    };
    for (const [what, name] of Object.entries(bad)) {
      await assert.rejects(createOrganisation(store, name), isCode('ORG_NAME_INVALID'), what);
    }
    await assert.rejects(createOrganisation(store, 'Org\u202EA'), /U\+202E/, 'the message names the character');
    assert.equal((await listOrganisations(store)).length, 0, 'nothing was stored');
  });

  test('ordinary names of any script, emoji with variation selectors and inner spacing are accepted as given', async () => {
    for (const name of ['Rockville Insurance Group', 'מרפאה · Clinique Ünïcode', '東京メディカル', '❤️ Care', '🏥'.repeat(200), 'Acme  Two Spaces']) {
      assert.equal((await createOrganisation(store, name)).name, name);
    }
  });

  test('names equal up to NFKC, case folding and white space are ORG_NAME_TAKEN', async () => {
    const original = await createOrganisation(store, 'Org A');
    for (const lookalike of ['Org A', 'org a', 'ORG A', 'Ｏｒｇ Ａ', 'Org\u00A0A', 'Org   A', 'Org\u3000A', 'ＯＲＧ ａ']) {
      await assert.rejects(
        createOrganisation(store, lookalike),
        (e: unknown) => isCode('ORG_NAME_TAKEN')(e) && (e as Error).message.includes(original.id),
        JSON.stringify(lookalike),
      );
    }
    await createOrganisation(store, 'Straße Bank');
    await assert.rejects(createOrganisation(store, 'STRASSE BANK'), isCode('ORG_NAME_TAKEN'), 'full case folding: ß is ss');
    await createOrganisation(store, 'Org B');
    assert.equal((await findNameConflicts(store)).duplicates.length, 0);
  });

  test('the store itself refuses a second holder of a name key (unique index)', async () => {
    await createOrganisation(store, 'Indexed Ltd');
    await assert.rejects(
      store.db.insertInto('organisations').values({ id: 'org_raw', name: 'INDEXED LTD', name_key: 'indexed ltd', created_at: 1 }).execute(),
      /UNIQUE/,
    );
  });
});

describe('organisation names: the server and the CLI', () => {
  test('the impostor of the issue cannot be created: same name, other case, or with a bidi override', async () => {
    const server = await startTestServer();
    try {
      const genuine = await server.createOrg('Org A');
      await assert.rejects(server.createOrg('Org A'), isCode('ORG_NAME_TAKEN'));
      await assert.rejects(server.createOrg('ORG a'), isCode('ORG_NAME_TAKEN'));
      await assert.rejects(server.createOrg('Org A\u202E'), isCode('ORG_NAME_INVALID'));
      await assert.rejects(server.createOrg('Org\u200B A'), isCode('ORG_NAME_INVALID'));
      const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(genuine), { data: 'only one Org A' });
      const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(genuine), { encrypted_data: sealed.json.body.encrypted_data });
      assert.equal(opened.json.body.signed_by, 'Org A');
      assert.equal(opened.json.body.signer_org_id, genuine.org_id);
    } finally {
      await server.stop();
    }
  });

  test("a rename made by another process reaches a running server's signatures within PQSEAL_LOGIN_CACHE_TTL", async () => {
    const server = await startTestServer({ loginCacheTtlSeconds: 1 });
    try {
      const org = await server.createOrg('Before Rename Ltd');
      const signedBy = async () => {
        const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'who signs this' });
        return (await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data })).json.body.signed_by;
      };
      assert.equal(await signedBy(), 'Before Rename Ltd');
      const env = { ...process.env, ...storeEnv(server.dataDir) };
      const renamed = await run('node', [CLI, 'org', 'rename', '--org', org.org_id, '--name', 'After Rename Ltd', '--json'], { env });
      assert.deepEqual(JSON.parse(renamed.stdout), { org_id: org.org_id, name: 'After Rename Ltd' });
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(await signedBy(), 'After Rename Ltd');
    } finally {
      await server.stop();
    }
  });

  test('pqseal org create refuses a taken or invalid name: exit 2, one clear line, nothing created', async () => {
    const dataDir = tempDataDir();
    const env = { ...process.env, ...storeEnv(dataDir) };
    const first = await run('node', [CLI, 'org', 'create', '--name', 'CLI Names Ltd', '--json'], { env });
    const org = JSON.parse(first.stdout) as NewOrganisation;
    registerSecret(org.password, org.secret_key);
    await assert.rejects(
      run('node', [CLI, 'org', 'create', '--name', 'cli names LTD'], { env }),
      (e: { code?: number; stderr?: string }) =>
        e.code === 2 && e.stderr === `pqseal: an organisation with the same name (ignoring case, width and spacing) already exists: ${org.org_id}\n`,
    );
    await assert.rejects(
      run('node', [CLI, 'org', 'create', '--name', 'CLI\u202E Names'], { env }),
      (e: { code?: number; stderr?: string }) =>
        e.code === 2 &&
        /^pqseal: organisation name must not contain invisible, control or bidirectional formatting characters \(found U\+202E\)\n$/.test(e.stderr ?? ''),
    );
    await assert.rejects(
      run('node', [CLI, 'org', 'create', '--name', ' CLI Names'], { env }),
      (e: { code?: number; stderr?: string }) => e.code === 2 && /must not start or end with white space/.test(e.stderr ?? ''),
    );
    const list = JSON.parse((await run('node', [CLI, 'org', 'list', '--json'], { env })).stdout) as { organisations: unknown[] };
    assert.equal(list.organisations.length, 1);
  });
});

describe('organisation names: upgrading a store that already holds duplicates', { skip: sqliteOnly('builds the old store with a SQLite connection') }, () => {
  const NAME_KEYS_MIGRATION = '005_organisation_name_keys';

  /** A store as the previous release made it (every migration before name keys), with real keys, users and credentials. */
  async function oldStore(dataDir: string, names: readonly string[]): Promise<NewOrganisation[]> {
    const keyEncryption = new MasterKeyEncryption(loadMasterKey(dataDir, undefined).key);
    const connection = openSqliteConnection(join(dataDir, DB_FILENAME));
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection.database }) });
    try {
      const all = await migrationProvider().getMigrations();
      assert.ok(NAME_KEYS_MIGRATION in all);
      const provider = { getMigrations: async () => Object.fromEntries(Object.entries(all).filter(([n]) => n < NAME_KEYS_MIGRATION)) };
      const { error } = await new Migrator({ db, provider }).migrateToLatest();
      assert.ifError(error);
      const providers = await loadProviders();
      const orgs: NewOrganisation[] = [];
      let at = 1_700_000_000_000;
      for (const name of names) {
        const orgId = `org_old${orgs.length}`;
        at += 1000;
        // The old schema: no name_key, no name_duplicate.
        await (db as unknown as Kysely<{ organisations: { id: string; name: string; created_at: number } }>)
          .insertInto('organisations')
          .values({ id: orgId, name, created_at: at })
          .execute();
        await generateOrgKeys(db, providers, keyEncryption, orgId, at);
        const password = `old-store-password-${orgs.length}-${'x'.repeat(12)}`;
        const username = `old-user-${orgs.length}`;
        await createUser(db, { orgId, username, password }, at);
        const c = await createCredentials(db, orgId, at);
        registerSecret(password, c.secretKey);
        orgs.push({ org_id: orgId, name, username, password, api_key: c.apiKey, access_key: c.accessKey, secret_key: c.secretKey });
      }
      return orgs;
    } finally {
      await db.destroy();
      connection.close();
    }
  }

  test('the upgrade starts, keeps every organisation working, warns at start, lists them, refuses new duplicates; rename resolves them', async () => {
    const dataDir = tempDataDir();
    const env = { ...process.env, ...storeEnv(dataDir) };
    const names = ['Acme Health', 'ACME  health', 'Globex', 'acme health', 'Bidi\u202Eevil', 'Ｇｌｏｂｅｘ'];
    const [genuine, impostor, globex, impostor2, bidi, globex2] = await oldStore(dataDir, names);

    const server = await startTestServer({ dataDir });
    try {
      // Nothing lost: every organisation, with its name exactly as it was.
      const stored = await listOrganisations(server.services.store);
      assert.deepEqual(
        stored.map((o) => [o.id, o.name]),
        [genuine, impostor, globex, impostor2, bidi, globex2].map((o) => [o!.org_id, o!.name]),
      );

      // Marked: the oldest of each group holds the name, the others are flagged duplicates.
      const flags = await server.services.store.db.selectFrom('organisations').select(['id', 'name_key', 'name_duplicate']).orderBy('created_at').execute();
      assert.deepEqual(
        flags.map((f) => [f.name_key, Number(f.name_duplicate)]),
        [
          ['acme health', 0],
          ['acme health', 1],
          ['globex', 0],
          ['acme health', 1],
          ['bidievil', 0],
          ['globex', 1],
        ],
      );

      // Loud: the start-up log names every colliding and invalid organisation.
      const warning = server.logs
        .map((l) => JSON.parse(l) as { level: number; msg: string; duplicateNames?: { orgIds: string[] }[]; invalidNames?: { orgId: string }[] })
        .find((l) => l.msg.includes('organisation names that impersonate or collide'));
      assert.ok(warning, 'a start-up warning');
      assert.equal(warning.level, 40, 'at warn level');
      assert.deepEqual(
        warning.duplicateNames?.map((g) => g.orgIds),
        [
          [genuine!.org_id, impostor!.org_id, impostor2!.org_id],
          [globex!.org_id, globex2!.org_id],
        ],
      );
      assert.deepEqual(
        warning.invalidNames?.map((i) => i.orgId),
        [bidi!.org_id],
      );
      assert.match(warning.msg, /pqseal org name-conflicts/);

      // Still working: the duplicates can sign and open as before (no data or access lost).
      for (const org of [impostor!, bidi!]) {
        const sealed = await post(`${server.url}/v1/sign-encrypt`, managedHeaders(org), { data: 'still works after the upgrade' });
        assert.equal(sealed.status, 200, JSON.stringify(sealed.json));
        const opened = await post(`${server.url}/v1/decrypt-verify`, managedHeaders(org), { encrypted_data: sealed.json.body.encrypted_data });
        assert.equal(opened.json.body.is_valid_signature, true);
        assert.equal(opened.json.body.signer_org_id, org.org_id);
      }

      // New duplicates are impossible, of the held name and of a duplicate's spelling alike.
      await assert.rejects(server.createOrg('Acme Health'), isCode('ORG_NAME_TAKEN'));
      await assert.rejects(server.createOrg('ACME  health'), isCode('ORG_NAME_TAKEN'));
      await assert.rejects(server.createOrg('GLOBEX'), isCode('ORG_NAME_TAKEN'));
    } finally {
      await server.stop({ keepData: true });
    }

    // The CLI lists them (exit 4 while any remain), JSON too.
    const listed = await run('node', [CLI, 'org', 'name-conflicts'], { env }).then(
      () => assert.fail('exit 0 with conflicts'),
      (e: { code?: number; stdout?: string }) => e,
    );
    assert.equal(listed.code, 4);
    assert.match(listed.stdout ?? '', /duplicate name "acme health"/);
    assert.match(listed.stdout ?? '', new RegExp(`${genuine!.org_id} {2}"Acme Health" {2}created .* \\(holds the name\\)`));
    assert.match(listed.stdout ?? '', /invalid name: org_old4 {2}"Bidi\\u\{202e\}evil"/, 'the bidi override is shown escaped, not applied');
    const listedOrgs = await run('node', [CLI, 'org', 'list'], { env });
    assert.match(listedOrgs.stdout, /org_old4 {2}Bidi\\u\{202e\}evil\n/, 'org list shows the bidi override escaped too');
    const asJson = await run('node', [CLI, 'org', 'name-conflicts', '--json'], { env }).catch((e: { stdout: string }) => e);
    assert.equal(JSON.parse(asJson.stdout).duplicates.length, 2);

    // Rename resolves them; renaming a duplicate to another taken spelling is refused.
    await assert.rejects(
      run('node', [CLI, 'org', 'rename', '--org', impostor!.org_id, '--name', 'acme HEALTH'], { env }),
      (e: { code?: number }) => e.code === 2,
    );
    // Renaming the holder away hands the name to the oldest remaining duplicate (it stays reserved).
    await run('node', [CLI, 'org', 'rename', '--org', genuine!.org_id, '--name', 'Acme Health (genuine)'], { env });
    await run('node', [CLI, 'org', 'rename', '--org', impostor2!.org_id, '--name', 'Renamed Impostor'], { env });
    await run('node', [CLI, 'org', 'rename', '--org', globex2!.org_id, '--name', 'Globex Two'], { env });
    await run('node', [CLI, 'org', 'rename', '--org', bidi!.org_id, '--name', 'Bidi fixed'], { env });
    const clean = await run('node', [CLI, 'org', 'name-conflicts'], { env });
    assert.match(clean.stdout, /No organisation names collide/);
    const store = await openStore({ dataDir });
    try {
      await assert.rejects(
        createOrganisation(store, 'acme health'),
        (e: unknown) => isCode('ORG_NAME_TAKEN')(e) && (e as Error).message.includes(impostor!.org_id),
        'the remaining member now holds the name',
      );
      const row = await store.db.selectFrom('organisations').select('name_duplicate').where('id', '=', impostor!.org_id).executeTakeFirstOrThrow();
      assert.equal(Number(row.name_duplicate), 0);
    } finally {
      await store.close();
    }
  });
});

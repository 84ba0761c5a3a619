import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { identityEvents, type AuthEvents } from '../../src/ports/invalidation.js';
import {
  createCredentials,
  getCredentials,
  listCredentials,
  revokeCredentials,
  verifyCredentials,
  type NewCredentials,
} from '../../src/partners/credentials.js';
import { CredentialsNotFoundError, OrganisationNameInvalidError, OrganisationNotFoundError, PartnerAuthError } from '../../src/partners/errors.js';
import { createOrganisation, getOrganisation, listOrganisations, requireOrganisation, type Organisation } from '../../src/partners/organisations.js';
import type { Store } from '../../src/ports/store.js';
import { openStore } from '../../src/store/database.js';

const invalid = (e: unknown) =>
  e instanceof PartnerAuthError && e.code === 'PARTNER_CREDENTIALS_INVALID' && e.message === 'the partner credentials are not valid';

let root: string;
let dataDir: string;
let store: Store;
let acme: Organisation;
let globex: Organisation;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pqseal-partners-'));
  dataDir = join(root, 'data');
  store = await openStore({ dataDir });
  acme = await createOrganisation(store, 'Acme Health');
  globex = await createOrganisation(store, 'Globex Finance');
});

after(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

describe('organisations', () => {
  test('create, get, list', async () => {
    assert.match(acme.id, /^org_[a-z2-7]{20}$/);
    assert.deepEqual(await getOrganisation(store, acme.id), acme);
    assert.equal(await getOrganisation(store, 'org_missing'), undefined);
    await assert.rejects(
      requireOrganisation(store, 'org_missing'),
      (e: unknown) => e instanceof OrganisationNotFoundError && e.code === 'ORGANISATION_NOT_FOUND',
    );
    const ids = (await listOrganisations(store)).map((o) => o.id);
    assert.ok(ids.includes(acme.id) && ids.includes(globex.id));
  });

  test('names must be 1..200 characters, without outer white space or control characters (test/integration/organisation-names.test.ts has the rest)', async () => {
    assert.equal((await createOrganisation(store, '🏥'.repeat(200))).name.length, 400);
    assert.equal((await createOrganisation(store, 'מרפאה · Clinique Ünïcode')).name, 'מרפאה · Clinique Ünïcode');
    for (const bad of ['', '   ', '  Spaced Ltd  ', 'x'.repeat(201), 'tab\there', 'nul\u0000']) {
      await assert.rejects(
        createOrganisation(store, bad),
        (e: unknown) => e instanceof OrganisationNameInvalidError && e.code === 'ORG_NAME_INVALID' && e.field === 'name',
      );
    }
  });
});

describe('partner credentials', () => {
  let creds: NewCredentials;
  before(async () => {
    creds = await createCredentials(store, acme.id);
  });

  test('have the documented shapes', () => {
    assert.match(creds.id, /^cred_[a-z2-7]{20}$/);
    assert.match(creds.apiKey, /^pk_[0-9A-Za-z]{24}$/);
    assert.match(creds.accessKey, /^ak_[0-9A-Za-z]{24}$/);
    assert.match(creds.secretKey, /^sk_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(creds.secretKey.slice(3), 'base64url').length, 32);
    assert.equal(creds.orgId, acme.id);
  });

  test('verify the right three keys to the organisation', async () => {
    assert.deepEqual(await verifyCredentials(store, creds), { credentialId: creds.id, orgId: acme.id });
  });

  test('any wrong key, unknown api_key or mixed sets give the same error', async () => {
    const other = await createCredentials(store, globex.id);
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
    const attempts = [
      { ...creds, secretKey: flip(creds.secretKey) },
      { ...creds, accessKey: flip(creds.accessKey) },
      { ...creds, apiKey: flip(creds.apiKey) },
      { ...creds, secretKey: other.secretKey },
      { ...creds, accessKey: other.accessKey },
      { ...other, secretKey: creds.secretKey },
      { ...creds, secretKey: '' },
      { ...creds, secretKey: 'x'.repeat(100_000) },
      { apiKey: creds.apiKey, accessKey: creds.accessKey, secretKey: undefined as unknown as string },
    ];
    for (const attempt of attempts) await assert.rejects(verifyCredentials(store, attempt), invalid);
    assert.equal((await verifyCredentials(store, other)).orgId, globex.id);
  });

  test('list shows every set of the organisation, never a secret', async () => {
    const list = await listCredentials(store, acme.id);
    const mine = list.find((c) => c.id === creds.id);
    assert.ok(mine);
    assert.deepEqual(Object.keys(mine).sort(), ['accessKey', 'apiKey', 'createdAt', 'id', 'orgId', 'revokedAt']);
    assert.equal(mine.revokedAt, null);
    assert.ok(list.every((c) => c.orgId === acme.id));
    assert.ok(!JSON.stringify(list).includes(creds.secretKey));
    assert.ok(!JSON.stringify(list).includes(creds.secretKey.slice(3)));
  });

  test('the organisation must exist', async () => {
    await assert.rejects(createCredentials(store, 'org_missing'), OrganisationNotFoundError);
  });

  test('revocation is immediate, idempotent and announced', async () => {
    const victim = await createCredentials(store, acme.id);
    await verifyCredentials(store, victim);
    const seen: AuthEvents['credentials-revoked'][] = [];
    const off = identityEvents.on('credentials-revoked', (e) => seen.push(e));
    try {
      const first = await revokeCredentials(store, victim.id, 1_000);
      assert.equal(first.revokedAt, 1_000);
      const again = await revokeCredentials(store, victim.id, 2_000);
      assert.equal(again.revokedAt, 1_000);
    } finally {
      off();
    }
    assert.deepEqual(seen, [
      { type: 'credentials-revoked', credentialId: victim.id },
      { type: 'credentials-revoked', credentialId: victim.id },
    ]);
    await assert.rejects(verifyCredentials(store, victim), invalid);
    assert.equal((await getCredentials(store, victim.id))?.revokedAt, 1_000);
    // Other sets of the same organisation are unaffected.
    await verifyCredentials(store, creds);
    await assert.rejects(revokeCredentials(store, 'cred_missing'), (e: unknown) => e instanceof CredentialsNotFoundError && e.code === 'CREDENTIALS_NOT_FOUND');
  });

  test('the secret key appears nowhere in the database files, only its hash', async () => {
    const probe = await createCredentials(store, globex.id);
    const row = await store.db.selectFrom('credentials').select('secret_hash').where('id', '=', probe.id).executeTakeFirstOrThrow();
    assert.equal(row.secret_hash.byteLength, 32);

    const scan = async () => Buffer.concat(await Promise.all((await readdir(dataDir)).map((f) => readFile(join(dataDir, f)))));
    const forms = (c: NewCredentials) => [c.secretKey, c.secretKey.slice(3), Buffer.from(c.secretKey.slice(3), 'base64url')];
    // While open (the WAL holds recent writes) and after close (checkpointed into the main file).
    const open = await scan();
    assert.ok(open.includes(probe.apiKey), 'the scan reads the database');
    for (const form of [...forms(probe), ...forms(creds)]) assert.equal(open.includes(form), false);

    await store.close();
    const closed = await scan();
    assert.ok(closed.includes(probe.apiKey));
    for (const form of [...forms(probe), ...forms(creds)]) assert.equal(closed.includes(form), false);
    store = await openStore({ dataDir });
    assert.equal((await verifyCredentials(store, probe)).credentialId, probe.id);
  });
});

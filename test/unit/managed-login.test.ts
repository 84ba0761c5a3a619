import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Authenticator, type AuthBackends } from '../../src/core/authenticator.js';
import type { LoginIdentity } from '../../src/ports/identity-provider.js';
import { unwrapKey, wrapKey } from '../../src/crypto/key-wrap.js';
import { TokenError } from '../../src/identity/errors.js';
import { TokenService } from '../../src/identity/tokens.js';
import { UserPool } from '../../src/identity/user-pool.js';
import { createUser, type User } from '../../src/identity/users.js';
import { createCredentials, verifyCredentials, type NewCredentials } from '../../src/partners/credentials.js';
import { createOrganisation, type Organisation } from '../../src/partners/organisations.js';
import type { Store } from '../../src/ports/store.js';
import { openStore } from '../../src/store/database.js';
import { TtlCache } from '../../src/memory/ttl-cache.js';

/**
 * The Managed path's login (issue 11: "no mint-then-verify on cold Managed logins"): the identity
 * comes from the password check and is used as it is, with the checks a token would get — disabled
 * user, token generation, and a cache lifetime no longer than a token's.
 */

const PASSWORD = 'correct horse battery staple';
const TOKEN_TTL_SECONDS = 600;

let root: string;
let store: Store;
let clock: number;
const now = () => clock;
let tokens: TokenService;
let org: Organisation;
let alice: User;
let credentials: NewCredentials;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pqseal-managed-login-'));
  store = await openStore({ dataDir: join(root, 'data') });
  clock = Date.now();
  const masterKey = randomBytes(32);
  tokens = await TokenService.create({
    store,
    issuer: 'http://127.0.0.1:8080',
    clientId: 'pqseal',
    idTokenTtlSeconds: TOKEN_TTL_SECONDS,
    wrap: (secret, kid) => wrapKey(masterKey, `jwt:${kid}`, secret),
    unwrap: (wrapped, kid) => unwrapKey(masterKey, `jwt:${kid}`, wrapped),
    now,
  });
  org = await createOrganisation(store, 'Rockville Insurance Group', clock);
  alice = await createUser(store, { orgId: org.id, username: 'alice@rockville', password: PASSWORD }, clock);
  credentials = await createCredentials(store, org.id, clock);
});

after(async () => {
  await store.close();
  await rm(root, { recursive: true, force: true });
});

/** The authenticator as src/services.ts wires it, with the calls each backend gets counted (the seam). */
function authenticator(options: { userCacheTtlMs: number; loginCacheTtlMs: number }) {
  const pool = new UserPool({ store, tokens, now, userCacheTtlMs: options.userCacheTtlMs });
  const calls = { login: 0, checkLogin: 0, verifyBearer: 0 };
  const backends: AuthBackends = {
    login: (username, password, from) => {
      calls.login++;
      return pool.managedLogin(username, password, from);
    },
    checkLogin: (login) => {
      calls.checkLogin++;
      return pool.checkLogin(login);
    },
    verifyBearer: (token) => {
      calls.verifyBearer++;
      return pool.authenticateBearer(token);
    },
    verifyPartner: (c) => verifyCredentials(store, c),
  };
  return { auth: new Authenticator(backends, (ttlMs) => new TtlCache(ttlMs, undefined, now), options.loginCacheTtlMs), pool, calls };
}

const partner = () => ({ apiKey: credentials.apiKey, accessKey: credentials.accessKey, secretKey: credentials.secretKey });
const tokenInvalid = (e: unknown) => e instanceof TokenError && e.code === 'TOKEN_INVALID';

async function setUserRow(userId: string, change: { disabled?: number; token_generation?: number }): Promise<void> {
  // As another process (the CLI) would: a store write with no event in this process.
  await store.db.updateTable('users').set(change).where('id', '=', userId).execute();
}

describe('Managed login', () => {
  test('a cold login gives the caller from the password check: no token is minted or verified', async () => {
    const { auth, pool, calls } = authenticator({ userCacheTtlMs: 30_000, loginCacheTtlMs: 60_000 });
    try {
      const login: LoginIdentity = await auth.login('alice@rockville', PASSWORD);
      assert.deepEqual(Object.keys(login).sort(), ['orgId', 'tokenGeneration', 'userId', 'username', 'validUntilMs']);
      const caller = await auth.managedCaller(login, partner());
      assert.deepEqual(caller, { userId: alice.id, username: 'alice@rockville', orgId: org.id, credentialId: credentials.id });
      assert.equal(calls.verifyBearer, 0);
      assert.equal(calls.login, 1);
      // Warm: the cached login, checked again against the user.
      assert.deepEqual(await auth.managedCaller(await auth.login('alice@rockville', PASSWORD), partner()), caller);
      assert.deepEqual(calls, { login: 1, checkLogin: 2, verifyBearer: 0 });
    } finally {
      pool.close();
    }
  });

  test('the login is trusted exactly as long as a token issued with it would be', async () => {
    const { auth, pool, calls } = authenticator({ userCacheTtlMs: 30_000, loginCacheTtlMs: 24 * 3600_000 });
    try {
      clock += 3600_000;
      const login = await auth.login('alice@rockville', PASSWORD);
      assert.equal(login.validUntilMs, (await tokens.issue(alice, org)).validUntilMs);
      assert.equal(login.validUntilMs, (Math.floor(clock / 1000) + TOKEN_TTL_SECONDS + 5) * 1000);
      clock = login.validUntilMs - 1;
      await auth.login('alice@rockville', PASSWORD);
      assert.equal(calls.login, 1, 'cached until then');
      clock = login.validUntilMs;
      await auth.login('alice@rockville', PASSWORD);
      assert.equal(calls.login, 2, 'a new password check from then on');
    } finally {
      pool.close();
    }
  });

  test('a cached login stops working when another process disables the user or changes the password', async () => {
    const bob = await createUser(store, { orgId: org.id, username: 'bob@rockville', password: PASSWORD }, clock);
    const { auth, pool } = authenticator({ userCacheTtlMs: 0, loginCacheTtlMs: 60_000 });
    try {
      const login = await auth.login('bob@rockville', PASSWORD);
      await auth.managedCaller(login, partner());

      await setUserRow(bob.id, { disabled: 1 });
      await assert.rejects(auth.managedCaller(await auth.login('bob@rockville', PASSWORD), partner()), tokenInvalid);
      await setUserRow(bob.id, { disabled: 0 });
      await auth.managedCaller(await auth.login('bob@rockville', PASSWORD), partner());

      // A password change, disable or enable bumps the generation.
      await setUserRow(bob.id, { token_generation: bob.tokenGeneration + 1 });
      await assert.rejects(auth.managedCaller(await auth.login('bob@rockville', PASSWORD), partner()), tokenInvalid);
    } finally {
      pool.close();
    }
  });

  test('a login of one organisation with partner credentials of another is refused', async () => {
    const other = await createOrganisation(store, 'Other Org', clock);
    const otherCredentials = await createCredentials(store, other.id, clock);
    const { auth, pool } = authenticator({ userCacheTtlMs: 30_000, loginCacheTtlMs: 60_000 });
    try {
      const login = await auth.login('alice@rockville', PASSWORD);
      await assert.rejects(
        auth.managedCaller(login, { apiKey: otherCredentials.apiKey, accessKey: otherCredentials.accessKey, secretKey: otherCredentials.secretKey }),
        (e: unknown) => (e as { code?: string }).code === 'PARTNER_CREDENTIALS_MISMATCH',
      );
    } finally {
      pool.close();
    }
  });
});

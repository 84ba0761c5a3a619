import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { addressKey } from '../../src/common/client-address.js';
import { InMemoryTokenBuckets } from '../../src/memory/rate-limiter.js';
import { LoginRateLimitedError, LoginThrottledError, NotAuthorizedError, TokenError, UsernameExistsError, ValidationError } from '../../src/identity/errors.js';
import { identityEvents, type IdentityEvent } from '../../src/ports/invalidation.js';
import { getDummyHash, hashPassword, verifyPassword } from '../../src/identity/passwords.js';
import { issueRefreshToken, redeemRefreshToken } from '../../src/identity/refresh-tokens.js';
import { JwtKeyError } from '../../src/identity/jwt-keys.js';
import { LoginThrottle } from '../../src/identity/throttle.js';
import { TokenService, type TokenServiceOptions } from '../../src/identity/tokens.js';
import { UserPool } from '../../src/identity/user-pool.js';
import { createUser, disableUser, enableUser, findByUsername, getUser, setPassword, type User } from '../../src/identity/users.js';
import { OrganisationNotFoundError } from '../../src/partners/errors.js';
import { createOrganisation, type Organisation } from '../../src/partners/organisations.js';
import type { Store } from '../../src/ports/store.js';
import { openStore } from '../../src/store/database.js';

const ISSUER = 'http://127.0.0.1:8080';
const CLIENT_ID = 'pqseal';
const PASSWORD = 'correct horse battery staple';

/** A stand-in for the master-key wrap: AES-256-GCM with the kid as associated data. */
function testWrapper(key = randomBytes(32)): Pick<TokenServiceOptions, 'wrap' | 'unwrap'> {
  return {
    wrap(secret, kid) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(kid));
      const body = Buffer.concat([c.update(secret), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    unwrap(wrapped, kid) {
      const d = createDecipheriv('aes-256-gcm', key, wrapped.subarray(0, 12)).setAAD(Buffer.from(kid));
      d.setAuthTag(wrapped.subarray(12, 28));
      return Buffer.concat([d.update(wrapped.subarray(28)), d.final()]);
    },
  };
}

const isCode = (code: string) => (e: unknown) => e instanceof TokenError && e.code === code;
const notAuthorized = (e: unknown) => e instanceof NotAuthorizedError && e.code === 'NOT_AUTHORIZED' && e.message === 'Username and/or Password Incorrect';

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

let root: string;
let store: Store;
let clock: number;
const now = () => clock;
const wrapper = testWrapper();
let tokens: TokenService;
let pool: UserPool;
let org: Organisation;
let alice: User;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'pqseal-identity-'));
  store = await openStore({ dataDir: join(root, 'data') });
  clock = Date.now();
  tokens = await TokenService.create({ store, issuer: ISSUER, clientId: CLIENT_ID, now, ...wrapper });
  pool = new UserPool({ store, tokens, now });
  org = await createOrganisation(store, 'Rockville Insurance Group', clock);
  alice = await createUser(store, { orgId: org.id, username: 'alice@rockville', password: PASSWORD }, clock);
});

after(async () => {
  pool.close();
  await store.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  // Each test starts well clear of earlier lockouts and token lifetimes.
  clock += 24 * 60 * 60_000;
});

describe('users', () => {
  test('the password is stored only as an argon2id hash with OWASP parameters', async () => {
    const row = await store.db.selectFrom('users').select('password_hash').where('id', '=', alice.id).executeTakeFirstOrThrow();
    assert.notEqual(row.password_hash, PASSWORD);
    assert.ok(!row.password_hash.includes(PASSWORD));
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await verifyPassword(row.password_hash, PASSWORD), true);
    assert.equal(await verifyPassword(row.password_hash, `${PASSWORD}!`), false);
    assert.equal(await verifyPassword('not a hash', PASSWORD), false);
  });

  test('hashes are salted; the dummy hash is made once', async () => {
    assert.notEqual(await hashPassword(PASSWORD), await hashPassword(PASSWORD));
    assert.equal(await getDummyHash(), await getDummyHash());
  });

  test('validation: username charset and length, password length, unique username, known org', async () => {
    const bad = (input: { username: string; password: string; orgId?: string }) =>
      createUser(store, { orgId: input.orgId ?? org.id, username: input.username, password: input.password });
    await assert.rejects(bad({ username: '', password: PASSWORD }), (e: unknown) => e instanceof ValidationError && e.field === 'username');
    await assert.rejects(bad({ username: 'has space', password: PASSWORD }), ValidationError);
    await assert.rejects(bad({ username: 'x'.repeat(129), password: PASSWORD }), ValidationError);
    await assert.rejects(
      bad({ username: 'bob', password: 'elevenchars' }),
      (e: unknown) => e instanceof ValidationError && e.code === 'VALIDATION_ERROR' && e.field === 'password',
    );
    await assert.rejects(bad({ username: 'alice@rockville', password: PASSWORD }), UsernameExistsError);
    await assert.rejects(bad({ username: 'bob', password: PASSWORD, orgId: 'org_nope' }), OrganisationNotFoundError);
    const ok = await bad({ username: 'Bob.O+test_1-x@a', password: 'twelve chars' });
    assert.equal((await getUser(store, ok.id))?.username, 'Bob.O+test_1-x@a');
    assert.equal((await findByUsername(store, 'Bob.O+test_1-x@a'))?.id, ok.id);
    assert.equal(await findByUsername(store, 'nobody'), undefined);
  });

  test('disable, enable and password change emit user-changed events', async () => {
    const user = await createUser(store, { orgId: org.id, username: 'events', password: PASSWORD });
    const seen: IdentityEvent[] = [];
    const off = identityEvents.on('user-changed', (e) => seen.push(e));
    try {
      assert.equal((await disableUser(store, user.id)).disabled, true);
      assert.equal((await enableUser(store, user.id)).disabled, false);
      clock += 5000;
      assert.equal((await setPassword(store, user.id, 'another long password', clock)).passwordChangedAt, clock);
    } finally {
      off();
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 3 }, () => ({ type: 'user-changed', userId: user.id })),
    );
  });
});

describe('login', () => {
  test('a correct password gives ID, access and refresh tokens that verify', async () => {
    const s = await pool.login('alice@rockville', PASSWORD);
    assert.equal(s.user.id, alice.id);
    assert.equal(s.org.id, org.id);
    assert.equal(s.org.name, 'Rockville Insurance Group');
    assert.equal(s.expiresIn, 3600);
    assert.match(s.refreshToken, /^[A-Za-z0-9_-]{43}$/);

    const id = await tokens.verifyIdToken(s.idToken);
    assert.deepEqual([id.userId, id.orgId, id.username, id.tokenUse], [alice.id, org.id, 'alice@rockville', 'id']);
    const claims = decodeJwt(s.idToken);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims['cognito:username'], 'alice@rockville');
    assert.equal(claims['custom:org_id'], org.id);
    assert.equal(claims.exp, Math.floor(clock / 1000) + 3600);
    assert.equal(typeof claims.jti, 'string');
    assert.equal(claims.auth_time, Math.floor(clock / 1000));
    const header = decodeProtectedHeader(s.idToken);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.kid, tokens.activeKid);

    const access = decodeJwt(s.accessToken);
    assert.equal(access.token_use, 'access');
    assert.equal(access.client_id, CLIENT_ID);
    assert.equal(access.aud, undefined);
    assert.equal((await tokens.verifyAccessToken(s.accessToken)).userId, alice.id);

    for (const t of [s.idToken, s.accessToken]) {
      assert.deepEqual(await pool.authenticateBearer(t), {
        userId: alice.id,
        orgId: org.id,
        username: 'alice@rockville',
        validUntilMs: (Math.floor(clock / 1000) + 3600 + 5) * 1000,
      });
    }
  });

  test('unknown user, wrong password and disabled user get the same NotAuthorizedError', async () => {
    const carol = await createUser(store, { orgId: org.id, username: 'carol', password: PASSWORD });
    await disableUser(store, carol.id);
    await assert.rejects(pool.login('alice@rockville', 'wrong password!!'), notAuthorized);
    await assert.rejects(pool.login('nobody-here', PASSWORD), notAuthorized);
    await assert.rejects(pool.login('carol', PASSWORD), notAuthorized);
    await assert.rejects(pool.login('bad username!', PASSWORD), notAuthorized);
    await assert.rejects(pool.login('alice@rockville', ''), notAuthorized);
    await pool.login('alice@rockville', PASSWORD);
  });

  test('an unknown username costs about what a wrong password costs', async () => {
    const time = async (username: string, password: string) => {
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        clock += 24 * 60 * 60_000;
        const start = performance.now();
        await pool.login(username, password).catch(() => undefined);
        samples.push(performance.now() - start);
      }
      return samples.sort((a, b) => a - b)[1] as number;
    };
    await getDummyHash();
    const wrong = await time('alice@rockville', 'wrong password!!');
    const unknown = await time('nobody-at-all', 'wrong password!!');
    assert.ok(unknown > wrong * 0.3 && unknown < wrong * 3, `unknown ${unknown.toFixed(1)} ms vs wrong ${wrong.toFixed(1)} ms`);
  });
});

describe('failed-login back-off', () => {
  test('locks after 5 failures without checking the password, unlocks after the back-off', async () => {
    const dave = await createUser(store, { orgId: org.id, username: 'dave', password: PASSWORD });
    for (let i = 0; i < 5; i++) await assert.rejects(pool.login('dave', 'wrong password!!'), notAuthorized);
    // Locked: even the right password is refused, with the wait in whole seconds.
    await assert.rejects(
      pool.login('dave', PASSWORD),
      (e: unknown) => e instanceof LoginThrottledError && e.code === 'LOGIN_THROTTLED' && e.retryAfterSeconds === 1,
    );
    clock += 999;
    await assert.rejects(pool.login('dave', PASSWORD), LoginThrottledError);
    clock += 1;
    assert.equal((await pool.login('dave', PASSWORD)).user.id, dave.id);
    // Success resets: four more failures do not lock.
    for (let i = 0; i < 4; i++) await assert.rejects(pool.login('dave', 'wrong password!!'), notAuthorized);
    assert.equal((await pool.login('dave', PASSWORD)).user.id, dave.id);
  });

  test('unknown usernames are throttled the same way', async () => {
    for (let i = 0; i < 5; i++) await assert.rejects(pool.login('ghost', PASSWORD), notAuthorized);
    await assert.rejects(pool.login('ghost', PASSWORD), LoginThrottledError);
  });

  test('a burst of parallel guesses is cut off at the limit', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => pool.login('alice@rockville', 'wrong password!!')));
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as Error).constructor.name : 'fulfilled'));
    assert.equal(reasons.filter((r) => r === 'NotAuthorizedError').length, 5);
    assert.equal(reasons.filter((r) => r === 'LoginThrottledError').length, 15);
  });

  test('twenty parallel logins with the right password all succeed and leave no failure record', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => pool.login('alice@rockville', PASSWORD)));
    assert.deepEqual(
      results.map((r) => r.status),
      Array.from({ length: 20 }, () => 'fulfilled'),
    );
    assert.equal(await new LoginThrottle(store, { now }).lockedForMs('alice@rockville'), 0);
  });

  test('the throttle stores a hash of the username, never the username', async () => {
    await assert.rejects(pool.login('my-password-typed-as-username', PASSWORD), notAuthorized);
    const rows = await store.db.selectFrom('login_throttle').select('username').execute();
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => !r.username.includes('my-password') && /^[A-Za-z0-9_-]{43}$/.test(r.username)));
  });

  test('the lock doubles per further failure, is capped at 15 minutes and survives a restart', async () => {
    const throttle = new LoginThrottle(store, { now });
    const fail = async () => {
      await (await throttle.beginAttempt('erin')).failed();
    };
    const locks: number[] = [];
    for (let i = 0; i < 16; i++) {
      await fail();
      locks.push(await throttle.lockedForMs('erin'));
      clock += locks.at(-1) as number;
    }
    assert.deepEqual(locks.slice(0, 4), [0, 0, 0, 0]);
    assert.deepEqual(
      locks.slice(4, 14),
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 512].map((s) => s * 1000),
    );
    assert.deepEqual(locks.slice(14), [900_000, 900_000]);

    await fail();
    const restarted = new LoginThrottle(store, { now });
    assert.equal(await restarted.lockedForMs('erin'), 900_000);
    await assert.rejects(restarted.beginAttempt('erin'), (e: unknown) => e instanceof LoginThrottledError && e.retryAfterSeconds === 900);
    clock += 900_000;
    await (await restarted.beginAttempt('erin')).succeeded();
    assert.equal(await restarted.lockedForMs('erin'), 0);
  });
});

describe('token verification', () => {
  let session: Awaited<ReturnType<UserPool['login']>>;
  beforeEach(async () => {
    session = await pool.login('alice@rockville', PASSWORD);
  });

  test('expired tokens are rejected as TOKEN_EXPIRED', async () => {
    clock += 3599 * 1000;
    await tokens.verifyIdToken(session.idToken);
    clock += 10 * 1000;
    await assert.rejects(tokens.verifyIdToken(session.idToken), isCode('TOKEN_EXPIRED'));
    await assert.rejects(pool.authenticateBearer(session.accessToken), isCode('TOKEN_EXPIRED'));
  });

  test('a token signed by another key is rejected', async () => {
    const other = await openStore({ filename: join(root, 'other.db') });
    try {
      const foreign = await TokenService.create({ store: other, issuer: ISSUER, clientId: CLIENT_ID, now, ...testWrapper() });
      const forged = await foreign.issue(alice, org);
      await assert.rejects(tokens.verifyIdToken(forged.idToken), isCode('TOKEN_INVALID'));
      await assert.rejects(pool.authenticateBearer(forged.accessToken), isCode('TOKEN_INVALID'));
      // Even when it claims our key id.
      const [, payload, signature] = forged.idToken.split('.');
      const relabelled = `${b64({ alg: 'RS256', kid: tokens.activeKid })}.${payload}.${signature}`;
      await assert.rejects(tokens.verifyIdToken(relabelled), isCode('TOKEN_INVALID'));
    } finally {
      await other.close();
    }
  });

  test('alg none, HS256 with the public key, and a tampered payload are rejected', async () => {
    const [header, payload, signature] = session.idToken.split('.') as [string, string, string];
    const claims = decodeJwt(session.idToken);
    const none = `${b64({ alg: 'none', kid: tokens.activeKid })}.${payload}.`;
    await assert.rejects(tokens.verifyIdToken(none), isCode('TOKEN_INVALID'));
    await assert.rejects(pool.authenticateBearer(none), isCode('TOKEN_INVALID'));

    const jwk = tokens.jwks().keys[0];
    for (const secret of [JSON.stringify(jwk), jwk?.n ?? '']) {
      const hsHeader = b64({ alg: 'HS256', kid: tokens.activeKid });
      const mac = createHmac('sha256', secret).update(`${hsHeader}.${payload}`).digest('base64url');
      await assert.rejects(tokens.verifyIdToken(`${hsHeader}.${payload}.${mac}`), isCode('TOKEN_INVALID'));
    }

    const tampered = `${header}.${b64({ ...claims, org_id: 'org_someoneelse', 'custom:org_id': 'org_someoneelse' })}.${signature}`;
    await assert.rejects(tokens.verifyIdToken(tampered), isCode('TOKEN_INVALID'));
    await assert.rejects(tokens.verifyIdToken(`${header}.${payload}.${signature.slice(0, -4)}AAAA`), isCode('TOKEN_INVALID'));
    for (const junk of ['', 'a.b.c', 'not-a-jwt', `${header}.${payload}`, 'x'.repeat(10_000)]) {
      await assert.rejects(tokens.verifyBearer(junk), isCode('TOKEN_INVALID'));
    }
  });

  test('wrong issuer, wrong audience / client id and wrong token_use are rejected', async () => {
    // Same store, so the same signing key: only the claims differ.
    const elsewhere = await TokenService.create({ store, issuer: 'https://elsewhere.example', clientId: CLIENT_ID, now, ...wrapper });
    const otherClient = await TokenService.create({ store, issuer: ISSUER, clientId: 'other-client', now, ...wrapper });
    assert.equal(elsewhere.activeKid, tokens.activeKid);
    const fromElsewhere = await elsewhere.issue(alice, org);
    await assert.rejects(tokens.verifyBearer(fromElsewhere.idToken), isCode('TOKEN_INVALID'));
    const forOtherClient = await otherClient.issue(alice, org);
    await assert.rejects(tokens.verifyIdToken(forOtherClient.idToken), isCode('TOKEN_INVALID'));
    await assert.rejects(tokens.verifyBearer(forOtherClient.accessToken), isCode('TOKEN_INVALID'));

    await assert.rejects(tokens.verifyIdToken(session.accessToken), isCode('TOKEN_INVALID'));
    await assert.rejects(tokens.verifyAccessToken(session.idToken), isCode('TOKEN_INVALID'));
    assert.equal((await tokens.verifyBearer(session.idToken)).tokenUse, 'id');
    assert.equal((await tokens.verifyBearer(session.accessToken)).tokenUse, 'access');
  });

  test('a disabled user’s tokens stop working at once and stay dead after enabling', async () => {
    const frank = await createUser(store, { orgId: org.id, username: 'frank', password: PASSWORD });
    const s = await pool.login('frank', PASSWORD);
    await pool.authenticateBearer(s.idToken); // cached as enabled
    await disableUser(store, frank.id);
    await assert.rejects(pool.authenticateBearer(s.idToken), isCode('TOKEN_INVALID'));
    await assert.rejects(pool.refresh(s.refreshToken), isCode('TOKEN_INVALID'));
    await enableUser(store, frank.id);
    await assert.rejects(pool.authenticateBearer(s.idToken), isCode('TOKEN_INVALID'));
    // Refresh tokens revoked by the disable stay revoked; a new login works.
    await assert.rejects(pool.refresh(s.refreshToken), isCode('TOKEN_INVALID'));
    assert.equal((await pool.authenticateBearer((await pool.login('frank', PASSWORD)).idToken)).userId, frank.id);
  });

  test('a token of an earlier generation is refused, even one from the same second', async () => {
    const claims = decodeJwt(session.idToken);
    assert.equal(claims['pqseal:token_gen'], 0);
    const henry = await createUser(store, { orgId: org.id, username: 'henry', password: PASSWORD });
    const s = await pool.login('henry', PASSWORD);
    clock += 1; // the same second
    await setPassword(store, henry.id, 'henry has a new password', clock);
    await assert.rejects(pool.authenticateBearer(s.accessToken), isCode('TOKEN_INVALID'));
    assert.equal(decodeJwt((await pool.login('henry', 'henry has a new password')).idToken)['pqseal:token_gen'], 1);
  });
});

describe('refresh tokens', () => {
  test('refresh gives new ID and access tokens with the original auth_time', async () => {
    const s = await pool.login('alice@rockville', PASSWORD);
    const loginTime = clock;
    clock += 10 * 60_000;
    const r = await pool.refresh(s.refreshToken);
    assert.notEqual(r.idToken, s.idToken);
    assert.equal(r.user.id, alice.id);
    const claims = decodeJwt(r.idToken);
    assert.equal(claims.iat, Math.floor(clock / 1000));
    assert.equal(claims.auth_time, Math.floor(loginTime / 1000));
    assert.equal((await pool.authenticateBearer(r.accessToken)).userId, alice.id);
    // Not rotated: the same refresh token works again.
    await pool.refresh(s.refreshToken);
  });

  test('a password change revokes refresh tokens and earlier ID tokens', async () => {
    const grace = await createUser(store, { orgId: org.id, username: 'grace', password: PASSWORD });
    const s = await pool.login('grace', PASSWORD);
    clock += 2000;
    await setPassword(store, grace.id, 'a brand new password', clock);
    await assert.rejects(pool.refresh(s.refreshToken), isCode('TOKEN_INVALID'));
    await assert.rejects(pool.authenticateBearer(s.idToken), isCode('TOKEN_INVALID'));
    await assert.rejects(pool.login('grace', PASSWORD), notAuthorized);
    const fresh = await pool.login('grace', 'a brand new password');
    assert.equal((await pool.authenticateBearer(fresh.idToken)).userId, grace.id);
  });

  test('expiry after 30 days; malformed and unknown tokens are invalid', async () => {
    const token = await issueRefreshToken(store, alice.id, { now: clock });
    assert.equal((await redeemRefreshToken(store, token, clock + 30 * 86_400_000 - 1)).userId, alice.id);
    await assert.rejects(redeemRefreshToken(store, token, clock + 30 * 86_400_000), isCode('TOKEN_EXPIRED'));
    await assert.rejects(pool.refresh(randomBytes(32).toString('base64url')), isCode('TOKEN_INVALID'));
    await assert.rejects(pool.refresh('short'), isCode('TOKEN_INVALID'));
  });

  test('only a SHA-256 of the refresh token is stored', async () => {
    const token = await issueRefreshToken(store, alice.id, { now: clock });
    const rows = await store.db.selectFrom('refresh_tokens').select('token_hash').execute();
    for (const row of rows) {
      assert.equal(row.token_hash.byteLength, 32);
      assert.ok(!Buffer.from(row.token_hash).equals(Buffer.from(token, 'base64url')));
    }
  });
});

describe('per-address login limit', () => {
  test('a bucket per address (IPv6 by /64), refused before any password check, refilled over time', async () => {
    const limited = new UserPool({ store, tokens, now, addressBuckets: new InMemoryTokenBuckets(1, 2, now) });
    try {
      for (let i = 0; i < 2; i++)
        await assert.rejects(limited.login('alice@rockville', 'wrong password!!', { clientAddress: '2001:db8:1:2::7' }), notAuthorized);
      await assert.rejects(
        limited.login('alice@rockville', PASSWORD, { clientAddress: '2001:db8:1:2:ffff::1' }),
        (e: unknown) => e instanceof LoginRateLimitedError && e.code === 'LOGIN_RATE_LIMITED' && e.retryAfterSeconds === 1,
      );
      assert.equal((await limited.login('alice@rockville', PASSWORD, { clientAddress: '2001:db8:1:3::7' })).user.id, alice.id, 'another /64');
      assert.equal((await limited.login('alice@rockville', PASSWORD, { clientAddress: '::ffff:192.0.2.1' })).user.id, alice.id);
      await limited.login('alice@rockville', PASSWORD, { clientAddress: '192.0.2.1' });
      await assert.rejects(
        limited.login('alice@rockville', PASSWORD, { clientAddress: '192.0.2.1' }),
        LoginRateLimitedError,
        'mapped and plain IPv4 share a bucket',
      );
      clock += 1000;
      await limited.login('alice@rockville', PASSWORD, { clientAddress: '192.0.2.1' });
    } finally {
      limited.close();
    }
  });

  test('address keys', () => {
    assert.equal(addressKey('2001:db8:0:1:2:3:4:5'), '2001:db8:0:1::/64');
    assert.equal(addressKey('2001:DB8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
    assert.equal(addressKey(undefined), 'unknown');
  });
});

describe('keys and discovery', () => {
  test('the JWKS holds the signing key; the key persists across restarts', async () => {
    const jwks = tokens.jwks();
    const jwk = jwks.keys.find((k) => k.kid === tokens.activeKid);
    assert.ok(jwk);
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use']);
    assert.equal(jwk.alg, 'RS256');
    assert.equal(Buffer.from(jwk.n, 'base64url').length, 256, 'RSA-2048 modulus');

    const s = await pool.login('alice@rockville', PASSWORD);
    const restarted = await TokenService.create({ store, issuer: ISSUER, clientId: CLIENT_ID, now, ...wrapper });
    assert.equal(restarted.activeKid, tokens.activeKid);
    assert.equal((await restarted.verifyIdToken(s.idToken)).userId, alice.id);
    // Another master key cannot unwrap it.
    await assert.rejects(
      TokenService.create({ store, issuer: ISSUER, clientId: CLIENT_ID, now, ...testWrapper() }),
      (e: unknown) => e instanceof JwtKeyError && e.code === 'JWT_KEY_UNAVAILABLE',
    );
  });

  test('the private key is stored wrapped, never as PKCS#8 in clear', async () => {
    const row = await store.db.selectFrom('signing_keys_jwt').selectAll().where('kid', '=', tokens.activeKid).executeTakeFirstOrThrow();
    // Clear PKCS#8 DER starts with SEQUENCE (0x30 0x82); the wrap makes it opaque.
    assert.ok(!(row.wrapped_private[0] === 0x30 && row.wrapped_private[1] === 0x82));
    assert.equal(row.active, 1);
  });

  test('rotation: new tokens use the new key, old tokens still verify, both are published', async () => {
    const db = await openStore({ filename: join(root, 'rotate.db') });
    try {
      const svc = await TokenService.create({ store: db, issuer: ISSUER, clientId: CLIENT_ID, now, ...wrapper });
      const oldKid = svc.activeKid;
      const before = await svc.issue(alice, org);
      const newKid = await svc.rotateSigningKey();
      assert.notEqual(newKid, oldKid);
      const afterRotation = await svc.issue(alice, org);
      assert.equal(decodeProtectedHeader(afterRotation.idToken).kid, newKid);
      await svc.verifyIdToken(before.idToken);
      await svc.verifyIdToken(afterRotation.idToken);
      assert.deepEqual(
        svc
          .jwks()
          .keys.map((k) => k.kid)
          .sort(),
        [oldKid, newKid].sort(),
      );
    } finally {
      await db.close();
    }
  });

  test('openid-configuration points at the JWKS under the configured issuer', () => {
    const config = tokens.openidConfiguration();
    assert.equal(config.issuer, ISSUER);
    assert.equal(config.jwks_uri, 'http://127.0.0.1:8080/.well-known/jwks.json');
    assert.deepEqual(config.id_token_signing_alg_values_supported, ['RS256']);
  });
});

describe('at rest', () => {
  test('no password or token appears in the database files', async () => {
    const s = await pool.login('alice@rockville', PASSWORD);
    const scratch = await openStore({ dataDir: join(root, 'scan') });
    const throwaway = new UserPool({
      store: scratch,
      tokens: await TokenService.create({ store: scratch, issuer: ISSUER, clientId: CLIENT_ID, now, ...wrapper }),
      now,
    });
    const o = await createOrganisation(scratch, 'Scan Ltd');
    await createUser(scratch, { orgId: o.id, username: 'scan-user', password: PASSWORD });
    const scanned = await throwaway.login('scan-user', PASSWORD);
    throwaway.close();
    await scratch.close();
    for (const dir of [join(root, 'scan'), join(root, 'data')]) {
      const bytes = Buffer.concat(await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f)))));
      assert.ok(bytes.includes(dir.endsWith('data') ? 'alice@rockville' : 'scan-user'), 'the scan reads the database');
      for (const secret of [PASSWORD, s.refreshToken, scanned.refreshToken, scanned.idToken, s.idToken]) {
        assert.equal(bytes.includes(secret), false);
      }
    }
  });
});

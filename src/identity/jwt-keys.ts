import { calculateJwkThumbprint } from 'jose';
import { dbOf, inTransaction, type StoreHandle } from '../ports/store.js';

/**
 * The RSA key pairs that sign the pool's JWTs. The private half is stored only as PKCS#8 DER
 * wrapped by the caller's `wrap` (the master key), and lives in memory as a non-extractable
 * WebCrypto key. Retired keys stay in the table and the JWKS so tokens they signed verify until
 * they expire.
 */

export const JWT_ALG = 'RS256';
const RSA: RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const RSA_GENERATE: RsaHashedKeyGenParams = { ...RSA, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };

export interface KeyWrapper {
  wrap(secret: Uint8Array, kid: string): Uint8Array;
  unwrap(wrapped: Uint8Array, kid: string): Uint8Array;
}

export interface PublicJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly alg: typeof JWT_ALG;
  readonly use: 'sig';
}

export interface VerificationKey {
  readonly jwk: PublicJwk;
  readonly key: CryptoKey;
}

export interface JwtKeys {
  readonly signing: { readonly kid: string; readonly key: CryptoKey };
  readonly verification: ReadonlyMap<string, VerificationKey>;
}

export class JwtKeyError extends Error {
  readonly code = 'JWT_KEY_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwtKeyError';
  }
}

/** Loads the active signing key, generating and storing the first one on a fresh store. */
export async function loadOrCreateJwtKeys(store: StoreHandle, wrapper: KeyWrapper, now: number = Date.now()): Promise<JwtKeys> {
  if (!(await activeRow(store))) {
    const generated = await generateKey(wrapper, now);
    // Another process may have created one meanwhile: theirs wins and ours is dropped unused.
    await inTransaction(store, async (trx) => {
      if (!(await activeRow(trx))) await trx.insertInto('signing_keys_jwt').values(generated).execute();
    });
  }
  return loadJwtKeys(store, wrapper);
}

/** Makes a new signing key active; earlier keys remain for verification. Returns its kid. */
export async function rotateJwtKey(store: StoreHandle, wrapper: KeyWrapper, now: number = Date.now()): Promise<string> {
  const generated = await generateKey(wrapper, now);
  await inTransaction(store, async (trx) => {
    await trx.updateTable('signing_keys_jwt').set({ active: 0 }).where('active', '=', 1).execute();
    await trx.insertInto('signing_keys_jwt').values(generated).execute();
  });
  return generated.kid;
}

export async function loadJwtKeys(store: StoreHandle, wrapper: KeyWrapper): Promise<JwtKeys> {
  const row = await activeRow(store);
  if (!row) throw new JwtKeyError('no active JWT signing key');
  let unwrapped: Uint8Array;
  try {
    unwrapped = wrapper.unwrap(new Uint8Array(row.wrapped_private), row.kid);
  } catch (cause) {
    throw new JwtKeyError(`JWT signing key ${row.kid} cannot be unwrapped (is this the master key it was stored under?)`, { cause });
  }
  const der = new Uint8Array(unwrapped);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', der, RSA, false, ['sign']);
  } catch (cause) {
    throw new JwtKeyError(`JWT signing key ${row.kid} cannot be imported`, { cause });
  } finally {
    unwrapped.fill(0);
    der.fill(0);
  }
  return { signing: { kid: row.kid, key }, verification: await loadVerificationKeys(store) };
}

export async function loadVerificationKeys(store: StoreHandle): Promise<Map<string, VerificationKey>> {
  const rows = await dbOf(store).selectFrom('signing_keys_jwt').select(['kid', 'alg', 'public_jwk']).where('alg', '=', JWT_ALG).execute();
  const keys = new Map<string, VerificationKey>();
  for (const row of rows) {
    const jwk = parsePublicJwk(row.public_jwk, row.kid);
    keys.set(row.kid, { jwk, key: await crypto.subtle.importKey('jwk', { kty: jwk.kty, n: jwk.n, e: jwk.e }, RSA, false, ['verify']) });
  }
  return keys;
}

async function activeRow(store: StoreHandle) {
  return dbOf(store)
    .selectFrom('signing_keys_jwt')
    .selectAll()
    .where('active', '=', 1)
    .where('alg', '=', JWT_ALG)
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .limit(1)
    .executeTakeFirst();
}

async function generateKey(wrapper: KeyWrapper, now: number) {
  const pair = await crypto.subtle.generateKey(RSA_GENERATE, true, ['sign', 'verify']);
  const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
  if (typeof exported.n !== 'string' || typeof exported.e !== 'string') throw new JwtKeyError('generated RSA key has no modulus');
  const kid = await calculateJwkThumbprint({ kty: 'RSA', n: exported.n, e: exported.e });
  const jwk: PublicJwk = { kty: 'RSA', n: exported.n, e: exported.e, kid, alg: JWT_ALG, use: 'sig' };
  const der = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  try {
    return { kid, alg: JWT_ALG, public_jwk: JSON.stringify(jwk), wrapped_private: wrapper.wrap(der, kid), created_at: now, active: 1 };
  } finally {
    der.fill(0);
  }
}

function parsePublicJwk(text: string, kid: string): PublicJwk {
  const value: unknown = JSON.parse(text);
  const v = value as Partial<Record<keyof PublicJwk, unknown>>;
  if (typeof value !== 'object' || value === null || v.kty !== 'RSA' || typeof v.n !== 'string' || typeof v.e !== 'string') {
    throw new JwtKeyError(`stored public key ${kid} is not an RSA JWK`);
  }
  return { kty: 'RSA', n: v.n, e: v.e, kid, alg: JWT_ALG, use: 'sig' };
}

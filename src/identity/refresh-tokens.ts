import { createHash, randomBytes } from 'node:crypto';
import { dbOf, type StoreHandle } from '../ports/store.js';
import { newId } from '../common/ids.js';
import { TokenError } from './errors.js';

/**
 * Opaque refresh tokens: 256 random bits, base64url. Only their SHA-256 is stored, so a copy of the
 * database does not let anyone refresh. A token is looked up by its hash through the unique index;
 * no byte-by-byte comparison of secrets happens in our code, so there is nothing to time.
 * Redeeming does not rotate the token (as the hosted identity pool behaves).
 */

export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface RefreshGrant {
  readonly userId: string;
  /** When the user logged in with the password (ms); becomes `auth_time` of refreshed tokens. */
  readonly authTime: number;
}

export async function issueRefreshToken(store: StoreHandle, userId: string, options: { now?: number; ttlMs?: number } = {}): Promise<string> {
  const now = options.now ?? Date.now();
  const token = randomBytes(32).toString('base64url');
  await dbOf(store)
    .insertInto('refresh_tokens')
    .values({
      id: newId('rt'),
      user_id: userId,
      token_hash: hashToken(token),
      expires_at: now + (options.ttlMs ?? REFRESH_TOKEN_TTL_MS),
      revoked_at: null,
      created_at: now,
    })
    .execute();
  return token;
}

/** The grant of a live token; `TokenError` (TOKEN_INVALID / TOKEN_EXPIRED) otherwise. */
export async function redeemRefreshToken(store: StoreHandle, token: string, now: number = Date.now()): Promise<RefreshGrant> {
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) throw new TokenError('TOKEN_INVALID', 'Invalid Refresh Token');
  const row = await dbOf(store)
    .selectFrom('refresh_tokens')
    .select(['user_id', 'expires_at', 'revoked_at', 'created_at'])
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row || row.revoked_at !== null) throw new TokenError('TOKEN_INVALID', 'Invalid Refresh Token');
  if (Number(row.expires_at) <= now) throw new TokenError('TOKEN_EXPIRED', 'Refresh Token has expired');
  return { userId: row.user_id, authTime: Number(row.created_at) };
}

/** Revokes every live refresh token of a user; returns how many. */
export async function revokeRefreshTokensForUser(store: StoreHandle, userId: string, now: number = Date.now()): Promise<number> {
  const result = await dbOf(store)
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes expired and revoked tokens; returns how many. */
export async function pruneRefreshTokens(store: StoreHandle, now: number = Date.now()): Promise<number> {
  const result = await dbOf(store)
    .deleteFrom('refresh_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function hashToken(token: string): Uint8Array {
  return createHash('sha256').update(token, 'utf8').digest();
}

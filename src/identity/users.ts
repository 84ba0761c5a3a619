import type { Kysely, Selectable } from 'kysely';
import { dbOf, inTransaction, type StoreHandle } from '../ports/store.js';
import { newId } from '../common/ids.js';
import type { Database, UsersTable } from '../ports/store-schema.js';
import { OrganisationNotFoundError } from '../partners/errors.js';
import { UsernameExistsError, UserNotFoundError, ValidationError } from './errors.js';
import { recordChange } from '../ports/change-log.js';
import { identityEvents } from '../ports/invalidation.js';
import { hashPassword } from './passwords.js';
import { revokeRefreshTokensForUser } from './refresh-tokens.js';

/** Users of the embedded pool. Each belongs to one organisation; usernames are unique pool-wide. */

export interface User {
  readonly id: string;
  readonly orgId: string;
  readonly username: string;
  readonly disabled: boolean;
  readonly passwordChangedAt: number;
  readonly createdAt: number;
  /** Tokens are valid only while they carry this value (bumped by password change, disable, enable). */
  readonly tokenGeneration: number;
}

export const USERNAME_PATTERN = /^[A-Za-z0-9._@+-]{1,128}$/;
export const PASSWORD_MIN_LENGTH = 12;
/** Bounds the work one login can cause; far above any real passphrase. */
export const PASSWORD_MAX_LENGTH = 1024;

export function isValidUsername(username: unknown): username is string {
  return typeof username === 'string' && USERNAME_PATTERN.test(username);
}

export function validateUsername(username: unknown): string {
  if (!isValidUsername(username)) {
    throw new ValidationError('username must be 1 to 128 characters of A-Z a-z 0-9 . _ @ + -', 'username');
  }
  return username;
}

export function validatePassword(password: unknown): string {
  if (typeof password !== 'string') throw new ValidationError('password must be a string', 'password');
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw new ValidationError(`password must be at least ${PASSWORD_MIN_LENGTH} characters`, 'password');
  if (length > PASSWORD_MAX_LENGTH) throw new ValidationError(`password must be at most ${PASSWORD_MAX_LENGTH} characters`, 'password');
  return password;
}

export async function createUser(store: StoreHandle, input: { orgId: string; username: string; password: string }, now: number = Date.now()): Promise<User> {
  const username = validateUsername(input.username);
  // Hash before the transaction: the store's single connection is not held for the ~50 ms it takes.
  const passwordHash = await hashPassword(validatePassword(input.password));
  return insertUser(store, { orgId: input.orgId, username, passwordHash }, now);
}

/**
 * Stores a user whose password is already hashed (`hashPassword` of a `validatePassword`ed one), in
 * the caller's transaction when `store` is one — so the hashing stays outside it.
 */
export async function insertUser(
  store: StoreHandle,
  input: { orgId: string; username: string; passwordHash: string },
  now: number = Date.now(),
): Promise<User> {
  const username = validateUsername(input.username);
  const user: User = { id: newId('usr'), orgId: input.orgId, username, disabled: false, passwordChangedAt: now, createdAt: now, tokenGeneration: 0 };
  try {
    await inTransaction(store, async (trx) => {
      const org = await trx.selectFrom('organisations').select('id').where('id', '=', input.orgId).executeTakeFirst();
      if (!org) throw new OrganisationNotFoundError(input.orgId);
      if (await usernameTaken(trx, username)) throw new UsernameExistsError(username);
      await trx
        .insertInto('users')
        .values({
          id: user.id,
          org_id: user.orgId,
          username,
          password_hash: input.passwordHash,
          disabled: 0,
          password_changed_at: now,
          created_at: now,
        })
        .execute();
    });
  } catch (error) {
    // Another process may have taken the name between our check and insert (unique constraint).
    if (!(error instanceof UsernameExistsError) && !(error instanceof OrganisationNotFoundError) && (await usernameTaken(store, username).catch(() => false))) {
      throw new UsernameExistsError(username);
    }
    throw error;
  }
  return user;
}

export async function getUser(store: StoreHandle, id: string): Promise<User | undefined> {
  const row = await dbOf(store).selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toUser(row);
}

export async function findByUsername(store: StoreHandle, username: string): Promise<User | undefined> {
  return (await findForLogin(store, username))?.user;
}

/** The user with the stored hash, for the password check; nothing else should need the hash. */
export async function findForLogin(store: StoreHandle, username: string): Promise<{ user: User; passwordHash: string } | undefined> {
  if (!isValidUsername(username)) return undefined;
  const row = await dbOf(store).selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  return row && { user: toUser(row), passwordHash: row.password_hash };
}

/** Disables the user, ends every token issued so far and revokes their refresh tokens. Idempotent. */
export async function disableUser(store: StoreHandle, userId: string, now: number = Date.now()): Promise<User> {
  return changeUser(store, userId, async (trx) => {
    await trx
      .updateTable('users')
      .set((eb) => ({ disabled: 1, token_generation: eb('token_generation', '+', 1) }))
      .where('id', '=', userId)
      .execute();
    await revokeRefreshTokensForUser(trx, userId, now);
  });
}

/** Enables the user. Tokens issued before the disable stay dead: the user logs in again. */
export async function enableUser(store: StoreHandle, userId: string): Promise<User> {
  return changeUser(store, userId, async (trx) => {
    await trx
      .updateTable('users')
      .set((eb) => ({ disabled: 0, token_generation: eb('token_generation', '+', 1) }))
      .where('id', '=', userId)
      .execute();
  });
}

/** Sets a new password; every token issued before stops working and refresh tokens are revoked. */
export async function setPassword(store: StoreHandle, userId: string, password: string, now: number = Date.now()): Promise<User> {
  const passwordHash = await hashPassword(validatePassword(password));
  return changeUser(store, userId, async (trx) => {
    await trx
      .updateTable('users')
      .set((eb) => ({ password_hash: passwordHash, password_changed_at: now, token_generation: eb('token_generation', '+', 1) }))
      .where('id', '=', userId)
      .execute();
    await revokeRefreshTokensForUser(trx, userId, now);
  });
}

async function changeUser(store: StoreHandle, userId: string, change: (trx: Kysely<Database>) => Promise<void>): Promise<User> {
  const user = await inTransaction(store, async (trx) => {
    const exists = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!exists) throw new UserNotFoundError(userId);
    await change(trx);
    await recordChange(trx, { type: 'user-changed', userId });
    return getUser(trx, userId);
  });
  if (!user) throw new UserNotFoundError(userId);
  // Inside a caller's transaction this fires before their commit; listeners only drop cache entries,
  // so the worst case is one extra read of the old row within the cache TTL.
  identityEvents.emit({ type: 'user-changed', userId });
  return user;
}

async function usernameTaken(store: StoreHandle, username: string): Promise<boolean> {
  const row = await dbOf(store).selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return row !== undefined;
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    orgId: row.org_id,
    username: row.username,
    disabled: Number(row.disabled) !== 0,
    passwordChangedAt: Number(row.password_changed_at),
    createdAt: Number(row.created_at),
    tokenGeneration: Number(row.token_generation),
  };
}

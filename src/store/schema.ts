import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Portable column conventions (so a PostgreSQL adapter needs no
 * changes here): timestamps are integer milliseconds since the epoch, booleans are integers 0/1,
 * binary values are Uint8Array.
 */

export interface OrganisationsTable {
  id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  org_id: string;
  username: string;
  password_hash: string;
  disabled: Generated<number>;
  password_changed_at: number;
  created_at: number;
}

export interface CredentialsTable {
  id: string;
  org_id: string;
  api_key: string;
  access_key: string;
  secret_hash: Uint8Array;
  created_at: number;
  revoked_at: number | null;
}

export interface OrgKeysTable {
  id: string;
  org_id: string;
  /** 'signing' | 'kem' */
  kind: string;
  version: number;
  public_key: Uint8Array;
  wrapped_secret: Uint8Array;
  created_at: number;
}

export interface SigningKeysJwtTable {
  kid: string;
  alg: string;
  public_jwk: string;
  wrapped_private: Uint8Array;
  created_at: number;
  active: number;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  token_hash: Uint8Array;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

export interface LoginThrottleTable {
  username: string;
  failures: number;
  locked_until: number;
  updated_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  organisations: OrganisationsTable;
  users: UsersTable;
  credentials: CredentialsTable;
  org_keys: OrgKeysTable;
  signing_keys_jwt: SigningKeysJwtTable;
  refresh_tokens: RefreshTokensTable;
  login_throttle: LoginThrottleTable;
  meta: MetaTable;
}

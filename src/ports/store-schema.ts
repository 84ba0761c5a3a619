import type { Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Portable column conventions (so a PostgreSQL adapter needs no
 * changes here): timestamps are integer milliseconds since the epoch, booleans are integers 0/1,
 * binary values are Uint8Array.
 */

export interface OrganisationsTable {
  id: string;
  name: string;
  /** organisationNameKey(name): unique among rows with name_duplicate = 0 (src/partners/organisation-names.ts). */
  name_key: string;
  /**
   * 1 for a row that came from before names were unique and whose key an older organisation already
   * held: kept working on upgrade, exempt from the unique index, reported by `pqseal org name-conflicts`.
   */
  name_duplicate: Generated<number>;
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
  /** Bumped by every password change, disable and enable; tokens carry the value they were issued under. */
  token_generation: Generated<number>;
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

/** A partner's access taken away: to one envelope of the owner, or (`envelope_id = '*'`) to all of them. */
export interface RevocationsTable {
  owner_org_id: string;
  partner_id: string;
  envelope_id: string;
  revoked_at: number;
  revoked_by: string | null;
}

/** One audit record; `hash` chains it to the previous record of the same `chain_id` (docs/audit.md). */
export interface AuditRecordsTable {
  chain_id: string;
  seq: number;
  at: number;
  request_id: string | null;
  org_id: string | null;
  user_id: string | null;
  credential_id: string | null;
  operation: string;
  via: string;
  envelope_id: string | null;
  envelope_owner_id: string | null;
  /** Comma-separated organisation ids, or null. */
  partner_ids: string | null;
  outcome: string;
  error_code: string | null;
  http_status: number | null;
  client_address: string | null;
  hash: string;
}

export interface AuditHeadsTable {
  chain_id: string;
  seq: number;
  hash: string;
}

export interface AuditCheckpointsTable {
  chain_id: string;
  seq: number;
  hash: string;
  signed_at: number;
  key_id: string;
  signature: Uint8Array;
  /** 1: unchained (before migration 003); 2: signs `prev`, the hash of the chain's previous checkpoint. */
  format: Generated<number>;
  prev: string | null;
}

export interface ServiceKeysTable {
  id: string;
  /** 'signing' */
  kind: string;
  version: number;
  public_key: Uint8Array;
  wrapped_secret: Uint8Array;
  created_at: number;
}

/** One committed change that caches depend on (src/ports/change-log.ts); polled by every serving process. */
export interface ChangesTable {
  seq: Generated<number>;
  /** The event type (`user-changed`, `credentials-revoked`, `keys-rotated`, `organisation-renamed`). */
  kind: string;
  /** The id it is about (user, credential set, organisation); never a secret. */
  subject: string;
  at: number;
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
  revocations: RevocationsTable;
  audit_records: AuditRecordsTable;
  audit_heads: AuditHeadsTable;
  audit_checkpoints: AuditCheckpointsTable;
  service_keys: ServiceKeysTable;
  changes: ChangesTable;
}

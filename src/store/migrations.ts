import { sql, type ColumnDataType, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * Versioned schema migrations, kept in code (no files to ship or find at run time). Names sort in
 * the order they must run; never edit a migration once released — add a new one.
 *
 * Migrations use Kysely's schema builder only. The few column types that differ between engines
 * come from `ColumnTypes`, so a PostgreSQL adapter passes its own (`bytea`, `bigint`) and reuses
 * the same migrations.
 */

export interface ColumnTypes {
  /** Binary values (Uint8Array in TypeScript). */
  readonly binary: ColumnDataType;
  /** 64-bit integers: millisecond timestamps, counters, 0/1 booleans. */
  readonly int64: ColumnDataType;
  /**
   * A primary key the database numbers itself, never reusing a number even after the highest rows
   * are deleted: SQLite `integer primary key autoincrement`, PostgreSQL `bigserial primary key`
   * (`{ type: 'bigserial', autoIncrement: false }`).
   */
  readonly sequenceKey: { readonly type: ColumnDataType; readonly autoIncrement: boolean };
}

export const SQLITE_COLUMN_TYPES: ColumnTypes = { binary: 'blob', int64: 'integer', sequenceKey: { type: 'integer', autoIncrement: true } };
export const POSTGRES_COLUMN_TYPES: ColumnTypes = { binary: 'bytea', int64: 'bigint', sequenceKey: { type: 'bigserial', autoIncrement: false } };

type MigrationSet = Record<string, Migration>;

function migrations(t: ColumnTypes): MigrationSet {
  return {
    '001_initial': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('organisations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
          .addColumn('username', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('disabled', t.int64, (c) => c.notNull().defaultTo(0))
          .addColumn('password_changed_at', t.int64, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('users_org_id').on('users').column('org_id').execute();

        await db.schema
          .createTable('credentials')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
          .addColumn('api_key', 'text', (c) => c.notNull().unique())
          .addColumn('access_key', 'text', (c) => c.notNull())
          .addColumn('secret_hash', t.binary, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('revoked_at', t.int64)
          .execute();
        await db.schema.createIndex('credentials_org_id').on('credentials').column('org_id').execute();

        await db.schema
          .createTable('org_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
          .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('signing', 'kem')`))
          .addColumn('version', t.int64, (c) => c.notNull())
          .addColumn('public_key', t.binary, (c) => c.notNull())
          .addColumn('wrapped_secret', t.binary, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addUniqueConstraint('org_keys_org_kind_version', ['org_id', 'kind', 'version'])
          .execute();

        await db.schema
          .createTable('signing_keys_jwt')
          .addColumn('kid', 'text', (c) => c.primaryKey())
          .addColumn('alg', 'text', (c) => c.notNull())
          .addColumn('public_jwk', 'text', (c) => c.notNull())
          .addColumn('wrapped_private', t.binary, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('active', t.int64, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('refresh_tokens')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('token_hash', t.binary, (c) => c.notNull().unique())
          .addColumn('expires_at', t.int64, (c) => c.notNull())
          .addColumn('revoked_at', t.int64)
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('refresh_tokens_user_id').on('refresh_tokens').column('user_id').execute();
        await db.schema.createIndex('refresh_tokens_expires_at').on('refresh_tokens').column('expires_at').execute();

        await db.schema
          .createTable('login_throttle')
          .addColumn('username', 'text', (c) => c.primaryKey())
          .addColumn('failures', t.int64, (c) => c.notNull())
          .addColumn('locked_until', t.int64, (c) => c.notNull())
          .addColumn('updated_at', t.int64, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('login_throttle_updated_at').on('login_throttle').column('updated_at').execute();

        await db.schema
          .createTable('meta')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .execute();
      },
    },

    /**
     * Partner revocations, the hash-chained audit log with its signed checkpoints, and the service's
     * own signing key (docs/audit.md). `revocations.envelope_id` is the envelope id (32 hex) or `*`
     * for "every envelope of the owner", so the primary key needs no NULLs.
     */
    '002_sharing_audit': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('revocations')
          .addColumn('owner_org_id', 'text', (c) => c.notNull().references('organisations.id'))
          .addColumn('partner_id', 'text', (c) => c.notNull().references('organisations.id'))
          .addColumn('envelope_id', 'text', (c) => c.notNull())
          .addColumn('revoked_at', t.int64, (c) => c.notNull())
          .addColumn('revoked_by', 'text')
          .addPrimaryKeyConstraint('revocations_pk', ['owner_org_id', 'partner_id', 'envelope_id'])
          .execute();

        await db.schema
          .createTable('audit_records')
          .addColumn('chain_id', 'text', (c) => c.notNull())
          .addColumn('seq', t.int64, (c) => c.notNull())
          .addColumn('at', t.int64, (c) => c.notNull())
          .addColumn('request_id', 'text')
          .addColumn('org_id', 'text')
          .addColumn('user_id', 'text')
          .addColumn('credential_id', 'text')
          .addColumn('operation', 'text', (c) => c.notNull())
          .addColumn('via', 'text', (c) => c.notNull())
          .addColumn('envelope_id', 'text')
          .addColumn('envelope_owner_id', 'text')
          .addColumn('partner_ids', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('error_code', 'text')
          .addColumn('http_status', t.int64)
          .addColumn('client_address', 'text')
          .addColumn('hash', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_records_pk', ['chain_id', 'seq'])
          .execute();
        await db.schema.createIndex('audit_records_chain_envelope').on('audit_records').columns(['chain_id', 'envelope_id']).execute();
        await db.schema.createIndex('audit_records_chain_at').on('audit_records').columns(['chain_id', 'at']).execute();

        await db.schema
          .createTable('audit_heads')
          .addColumn('chain_id', 'text', (c) => c.primaryKey())
          .addColumn('seq', t.int64, (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('audit_checkpoints')
          .addColumn('chain_id', 'text', (c) => c.notNull())
          .addColumn('seq', t.int64, (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('signed_at', t.int64, (c) => c.notNull())
          .addColumn('key_id', 'text', (c) => c.notNull())
          .addColumn('signature', t.binary, (c) => c.notNull())
          .addPrimaryKeyConstraint('audit_checkpoints_pk', ['chain_id', 'seq'])
          .execute();

        await db.schema
          .createTable('service_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('signing')`))
          .addColumn('version', t.int64, (c) => c.notNull().unique())
          .addColumn('public_key', t.binary, (c) => c.notNull())
          .addColumn('wrapped_secret', t.binary, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .execute();
      },
    },

    /**
     * Chained audit checkpoints (docs/audit.md, "Signed checkpoints"): `format` 2 checkpoints sign
     * the hash of the chain's previous checkpoint (`prev`, null for the first). Rows written before
     * this migration keep `format` 1 and no `prev`.
     */
    '003_audit_checkpoint_chain': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .alterTable('audit_checkpoints')
          .addColumn('format', t.int64, (c) => c.notNull().defaultTo(1))
          .execute();
        await db.schema.alterTable('audit_checkpoints').addColumn('prev', 'text').execute();
      },
    },

    /**
     * A per-user token generation: every password change, disable and enable bumps it, and a token is
     * valid only while the generation it carries is the user's current one (exact, unlike comparing
     * `iat` in whole seconds). Existing users start at 0.
     */
    '004_user_token_generation': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .alterTable('users')
          .addColumn('token_generation', t.int64, (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },

    /**
     * Organisation names become unique under organisationNameKey (NFKC, case folding, white space).
     * A store may already hold names that collide: the upgrade keeps every organisation and all its
     * data working, and marks all but the oldest of each colliding group `name_duplicate = 1` — exempt
     * from the unique index — so the oldest keeps the name reserved and no new duplicate can be made.
     * The server logs the collisions at every start; `pqseal org name-conflicts` lists them and
     * `pqseal org rename` resolves them (README, "Organisation names").
     */
    '005_organisation_name_keys': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .alterTable('organisations')
          .addColumn('name_key', 'text', (c) => c.notNull().defaultTo(''))
          .execute();
        await db.schema
          .alterTable('organisations')
          .addColumn('name_duplicate', t.int64, (c) => c.notNull().defaultTo(0))
          .execute();

        const orgs = db as unknown as Kysely<{ organisations: { id: string; name: string; name_key: string; name_duplicate: number; created_at: number } }>;
        const rows = await orgs.selectFrom('organisations').select(['id', 'name']).orderBy('created_at').orderBy('id').execute();
        const held = new Set<string>();
        for (const row of rows) {
          const key = nameKeyAt005(row.name);
          const duplicate = held.has(key) ? 1 : 0;
          held.add(key);
          await orgs.updateTable('organisations').set({ name_key: key, name_duplicate: duplicate }).where('id', '=', row.id).execute();
        }

        await db.schema
          .createIndex('organisations_name_key_unique')
          .on('organisations')
          .column('name_key')
          .unique()
          .where(sql.ref('name_duplicate'), '=', 0)
          .execute();
        await db.schema.createIndex('organisations_name_key').on('organisations').column('name_key').execute();
      },
    },

    /**
     * The change log: every change that caches depend on, written in the transaction that makes it,
     * polled by every serving process (`where seq > last`) so a change made elsewhere (the CLI, another
     * node) reaches its caches within a second without Redis. Old rows are pruned.
     */
    '006_change_log': {
      async up(db: Kysely<unknown>): Promise<void> {
        await db.schema
          .createTable('changes')
          .addColumn('seq', t.sequenceKey.type, (c) => (t.sequenceKey.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('at', t.int64, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('changes_at').on('changes').column('at').execute();
      },
    },
  };
}

const DEFAULT_IGNORABLE_ALL = /\p{Default_Ignorable_Code_Point}/gu;
const WHITE_SPACE_RUN = /\p{White_Space}+/gu;

/**
 * `organisationNameKey` (src/partners/organisation-names.ts) as it was when 005 was released, frozen
 * here: a migration must compute the same keys whenever it runs, whatever later becomes of the domain
 * function (which then needs a migration of its own that recomputes `name_key`).
 */
function nameKeyAt005(name: string): string {
  return name
    .replace(DEFAULT_IGNORABLE_ALL, '')
    .normalize('NFKC')
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC')
    .replace(DEFAULT_IGNORABLE_ALL, '')
    .replace(WHITE_SPACE_RUN, ' ')
    .trim();
}

export function migrationProvider(types: ColumnTypes = SQLITE_COLUMN_TYPES): MigrationProvider {
  const set = migrations(types);
  return { getMigrations: async () => set };
}

/** Names of all migrations this build knows, in order (the last one is the schema version). */
export function migrationNames(): string[] {
  return Object.keys(migrations(SQLITE_COLUMN_TYPES)).sort();
}

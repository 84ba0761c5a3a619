import { randomUUID } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config.js';
import { generatePassword } from '../core/organisations.js';
import { createUser, disableUser, enableUser, findByUsername, setPassword } from '../identity/users.js';
import { listOrgKeys } from '../keys/org-keys.js';
import { createCredentials, listCredentials, revokeCredentials } from '../partners/credentials.js';
import { describeNameConflicts, findNameConflicts, hasNameConflicts, showInvisible } from '../partners/name-conflicts.js';
import { getOrganisation, listOrganisations, renameOrganisation } from '../partners/organisations.js';
import type { RevocationActor } from '../permissions/revocations.js';
import { openServices, type Services } from '../services.js';
import { auditCommand } from './audit.js';
import { backupCommand, restoreCommand } from './backup.js';

type Command = (args: string[], config: Config) => Promise<number>;
type Options = NonNullable<ParseArgsConfig['options']>;

class CliUsageError extends Error {
  readonly code = 'VALIDATION_ERROR';
}

const json = { json: { type: 'boolean' }, help: { type: 'boolean' } } as const;

/** Like `audit verify` finding a broken chain: the check ran and found something (src/cli/main.ts EXIT.verification). */
const EXIT_CONFLICTS = 4;

/** Parses `<sub> --flags`, prints help on --help, and runs `fn` with services opened on DATA_DIR. */
function group(
  name: string,
  subs: Record<string, { usage: string; options: Options; run: (v: Record<string, string | boolean | undefined>, s: Services) => Promise<number | void> }>,
): Command {
  return async (args, config) => {
    const [sub, ...rest] = args;
    const spec = sub ? subs[sub] : undefined;
    if (!spec) {
      process.stdout.write(
        `Usage:\n${Object.values(subs)
          .map((s) => `  pqseal ${name} ${s.usage}`)
          .join('\n')}\n`,
      );
      return sub === '--help' || sub === '-h' ? 0 : 2;
    }
    const { values } = parseArgs({ args: rest, options: { ...json, ...spec.options }, strict: true });
    if (values.help) {
      process.stdout.write(`Usage: pqseal ${name} ${spec.usage}\n`);
      return 0;
    }
    const services = await openServices(config, { workers: false });
    try {
      return (await spec.run(values, services)) ?? 0;
    } finally {
      await services.close();
    }
  };
}

function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliUsageError(`--${name} is required`);
  return v;
}

function print(values: Record<string, unknown>, asJson: unknown, human: string): void {
  process.stdout.write(asJson ? `${JSON.stringify(values)}\n` : `${human}\n`);
}

/** CLI changes are audited like API ones, in the organisation's chain, with via "cli" and no user. */
function cliActor(orgId: string): RevocationActor {
  return { orgId, userId: null, credentialId: null, requestId: `cli-${randomUUID()}`, via: 'cli', clientAddress: null, httpStatus: null };
}

function optional(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

async function requireOrg(services: Services, orgId: string) {
  const org = await getOrganisation(services.store, orgId);
  if (!org) throw new CliUsageError(`unknown organisation ${orgId}`);
  return org;
}

export const adminCommands: Record<string, Command> = {
  org: group('org', {
    create: {
      usage: 'create --name "<display name>" [--json]',
      options: { name: { type: 'string' } },
      run: async (v, s) => {
        const org = await s.createOrganisation(required(v, 'name'));
        print(
          { ...org },
          v.json,
          [
            `Created organisation "${org.name}" (${org.org_id}). The password and secret_key are shown only now.`,
            ...Object.entries(org).map(([k, val]) => `  ${k.padEnd(10)} ${val}`),
          ].join('\n'),
        );
      },
    },
    list: {
      usage: 'list [--json]',
      options: {},
      run: async (v, s) => {
        const orgs = await listOrganisations(s.store);
        print({ organisations: orgs }, v.json, orgs.map((o) => `${o.id}  ${showInvisible(o.name)}`).join('\n') || '(none)');
      },
    },
    rename: {
      usage: 'rename --org <org id> --name "<new display name>" [--json]',
      options: { org: { type: 'string' }, name: { type: 'string' } },
      run: async (v, s) => {
        const org = await renameOrganisation(s.store, required(v, 'org'), required(v, 'name'));
        print(
          { org_id: org.id, name: org.name },
          v.json,
          `Renamed ${org.id} to "${org.name}". Envelopes it signed before keep the name they were signed with; running servers on this store sign with it within a second.`,
        );
      },
    },
    'name-conflicts': {
      usage: 'name-conflicts [--json]   (exit 4 when there are any)',
      options: {},
      run: async (v, s) => {
        const conflicts = await findNameConflicts(s.store);
        print(
          { ...conflicts },
          v.json,
          hasNameConflicts(conflicts) ? describeNameConflicts(conflicts).join('\n') : 'No organisation names collide or break the naming rules.',
        );
        return hasNameConflicts(conflicts) ? EXIT_CONFLICTS : 0;
      },
    },
  }),

  user: group('user', {
    create: {
      usage: 'create --org <org id> --username <u> [--password <p>] [--json]',
      options: { org: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const password = typeof v.password === 'string' ? v.password : generatePassword();
        const user = await createUser(s.store, { orgId: org.id, username: required(v, 'username'), password });
        print(
          { user_id: user.id, org_id: org.id, username: user.username, password },
          v.json,
          `Created user ${user.username} in ${org.id}; password: ${password}`,
        );
      },
    },
    disable: {
      usage: 'disable --username <u>',
      options: { username: { type: 'string' } },
      run: async (v, s) => {
        const user = await findByUsername(s.store, required(v, 'username'));
        if (!user) throw new CliUsageError('unknown user');
        await disableUser(s.store, user.id);
        print({ user_id: user.id, disabled: true }, v.json, `Disabled ${user.username}`);
      },
    },
    enable: {
      usage: 'enable --username <u>',
      options: { username: { type: 'string' } },
      run: async (v, s) => {
        const user = await findByUsername(s.store, required(v, 'username'));
        if (!user) throw new CliUsageError('unknown user');
        await enableUser(s.store, user.id);
        print({ user_id: user.id, disabled: false }, v.json, `Enabled ${user.username}`);
      },
    },
    'set-password': {
      usage: 'set-password --username <u> [--password <p>] [--json]',
      options: { username: { type: 'string' }, password: { type: 'string' } },
      run: async (v, s) => {
        const user = await findByUsername(s.store, required(v, 'username'));
        if (!user) throw new CliUsageError('unknown user');
        const password = typeof v.password === 'string' ? v.password : generatePassword();
        await setPassword(s.store, user.id, password);
        print({ user_id: user.id, password }, v.json, `New password for ${user.username}: ${password}`);
      },
    },
  }),

  creds: group('creds', {
    create: {
      usage: 'create --org <org id> [--json]',
      options: { org: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const c = await createCredentials(s.store, org.id);
        print(
          { credential_id: c.id, org_id: org.id, api_key: c.apiKey, access_key: c.accessKey, secret_key: c.secretKey },
          v.json,
          `Created credentials ${c.id} (secret shown only now):\n  api_key    ${c.apiKey}\n  access_key ${c.accessKey}\n  secret_key ${c.secretKey}`,
        );
      },
    },
    list: {
      usage: 'list --org <org id> [--json]',
      options: { org: { type: 'string' } },
      run: async (v, s) => {
        const list = await listCredentials(s.store, required(v, 'org'));
        print({ credentials: list }, v.json, list.map((c) => `${c.id}  ${c.apiKey}  ${c.revokedAt ? 'revoked' : 'active'}`).join('\n') || '(none)');
      },
    },
    revoke: {
      usage: 'revoke --id <credential id>',
      options: { id: { type: 'string' } },
      run: async (v, s) => {
        await revokeCredentials(s.store, required(v, 'id'));
        print({ credential_id: v.id, revoked: true }, v.json, `Revoked ${String(v.id)}`);
      },
    },
  }),

  keys: group('keys', {
    rotate: {
      usage: 'rotate --org <org id> [--json]',
      options: { org: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const r = await s.rotateKeys(org.id);
        print({ org_id: org.id, signing_key_id: r.signingKeyId, kem_key_id: r.kemKeyId }, v.json, `New keys for ${org.id}: ${r.signingKeyId}, ${r.kemKeyId}`);
      },
    },
    list: {
      usage: 'list --org <org id> [--json]',
      options: { org: { type: 'string' } },
      run: async (v, s) => {
        const keys = await listOrgKeys(s.store.db, required(v, 'org'));
        const rows = keys.map((k) => ({ key_id: k.id, kind: k.kind, version: k.version, created_at: new Date(k.createdAt).toISOString() }));
        print({ keys: rows }, v.json, rows.map((k) => `${k.key_id}  ${k.kind}  v${k.version}  ${k.created_at}`).join('\n'));
      },
    },
  }),

  permissions: group('permissions', {
    revoke: {
      usage: 'revoke --org <owner org id> --partner <partner org id> [--envelope <envelope id>] [--json]',
      options: { org: { type: 'string' }, partner: { type: 'string' }, envelope: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const r = await s.revocations.revoke(cliActor(org.id), required(v, 'partner'), optional(v, 'envelope') ?? null);
        const what = r.envelope_id ? `envelope ${r.envelope_id}` : `every envelope of ${org.id}`;
        print({ ...r }, v.json, `${r.changed ? 'Revoked' : 'Already revoked:'} ${r.partner_id}'s access to ${what}`);
      },
    },
    restore: {
      usage: 'restore --org <owner org id> --partner <partner org id> [--envelope <envelope id>] [--json]',
      options: { org: { type: 'string' }, partner: { type: 'string' }, envelope: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const r = await s.revocations.restore(cliActor(org.id), required(v, 'partner'), optional(v, 'envelope') ?? null);
        const what = r.envelope_id ? `envelope ${r.envelope_id}` : `every envelope of ${org.id}`;
        const still = r.access_revoked ? ' (still refused: all envelopes are revoked for this partner)' : '';
        print({ ...r }, v.json, `${r.changed ? 'Restored' : 'Nothing to restore for'} ${r.partner_id}'s access to ${what}${still}`);
      },
    },
    list: {
      usage: 'list --org <owner org id> [--partner <partner org id>] [--envelope <envelope id>] [--json]',
      options: { org: { type: 'string' }, partner: { type: 'string' }, envelope: { type: 'string' } },
      run: async (v, s) => {
        const org = await requireOrg(s, required(v, 'org'));
        const all = [];
        let cursor: string | undefined;
        do {
          const page = await s.revocations.list(org.id, { partnerId: optional(v, 'partner'), envelopeId: optional(v, 'envelope'), limit: 500, cursor });
          all.push(...page.revocations);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        const lines = all.map((r) => `${r.partner_id}  ${r.envelope_id ?? '(all envelopes)'}  revoked ${r.revoked_at} by ${r.revoked_by ?? '?'}`);
        print({ owner_org_id: org.id, revocations: all }, v.json, lines.join('\n') || '(no revocations)');
      },
    },
  }),

  audit: auditCommand,
  backup: backupCommand,
  restore: restoreCommand,
};

import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { MasterKeyError } from '../keys/master-key.js';
import { CLIENT_HELP, clientCommand } from './client/index.js';
// The server and the administration commands (store, crypto, worker pool) load only when used, so
// the client commands start in ~0.2 s instead of ~1.2 s.
const loadAdmin = async () => (await import('./admin.js')).adminCommands;
const loadServe = async () => (await import('./serve.js')).serve;

/**
 * `pqseal <command>`. Exit codes: 0 ok, 2 usage error, 3 authentication/authorisation error,
 * 4 verification failure, 5 server or store error, 1 anything else.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, auth: 3, verification: 4, server: 5 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HELP = `pqseal — post-quantum sign & encrypt service

Usage: pqseal <command> [options]

Server
  serve [--host H] [--port P] [--data-dir D]   run the service (npm start)

Administration (operate on the store in DATA_DIR directly)
  org create --name "<display name>" [--json]  organisation + keys + user + credentials
  org list [--json]
  org rename --org <org id> --name "<new display name>" [--json]
  org name-conflicts [--json]                 names kept from before they were unique (exit 4 if any)
  user create --org <org id> --username <u> [--password <p>] [--json]
  user disable --username <u>
  user enable --username <u>
  user set-password --username <u> [--password <p>] [--json]
  creds create --org <org id> [--json]
  creds list --org <org id> [--json]
  creds revoke --id <credential id>
  keys rotate --org <org id> [--json]
  keys list --org <org id> [--json]
  permissions revoke --org <owner> --partner <partner> [--envelope <id>] [--json]
  permissions restore --org <owner> --partner <partner> [--envelope <id>] [--json]
  permissions list --org <owner> [--partner <partner>] [--envelope <id>] [--json]

Audit log
  audit verify [--org <org id>] [--from <seq>] [--service-key key.json] [--json]
                                               recompute hash chains + checkpoints (exit 4 if broken)
  audit verify --file export.jsonl [--service-key key.json]   verify an export offline
  audit verify … --trusted FILE                                fail unless the chain extends FILE (earlier export or checkpoint sink)
  audit export --org <org id> --out <file.jsonl>               records + checkpoints + service key
  audit checkpoint [--org <org id>]                            verify, then sign the chain heads now (exit 4 if refused)

Backup (SQLite; with DATABASE_URL use pg_dump)
  backup --out FILE [--json]                 consistent snapshot while the server runs (0600, never overwrites; no master key in it)
  restore --from FILE [--json]               into an empty DATA_DIR, after integrity and schema checks (exit 4 if the file is bad)

${CLIENT_HELP}

Environment: HOST, PORT, DATA_DIR, PQSEAL_MASTER_KEY, PQSEAL_CHECKPOINT_INTERVAL, … (see README "Configuration").
Every command accepts --help.`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command ? EXIT.ok : EXIT.usage;
  }
  try {
    if (command === 'serve') {
      const { values } = parseArgs({
        args: rest,
        options: { host: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean' } },
        strict: true,
      });
      if (values.help) {
        process.stdout.write('pqseal serve [--host H] [--port P] [--data-dir D]\n  Runs the service. Defaults: HOST=127.0.0.1 PORT=8080 DATA_DIR=./data\n');
        return EXIT.ok;
      }
      const env = { ...process.env };
      if (values.host) env.HOST = values.host;
      if (values.port) env.PORT = values.port;
      if (values['data-dir']) env.DATA_DIR = values['data-dir'];
      return await (
        await loadServe()
      )(loadConfig(env));
    }
    // Client commands talk to a server through the SDK (src/cli/client/); they map their own errors.
    const client = clientCommand(command, rest);
    if (client) return await client(rest);
    const admin = (await loadAdmin())[command];
    if (!admin) throw new UsageError(`unknown command "${command}"; run pqseal --help`);
    return await admin(rest, loadConfig());
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`pqseal: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError || e instanceof MasterKeyError) {
      process.stderr.write(`pqseal: ${e.message}\n`);
      return EXIT.usage;
    }
    const code = (e as { code?: unknown }).code;
    if (code === 'VALIDATION_ERROR' || code === 'ORG_NAME_INVALID' || code === 'ORG_NAME_TAKEN') {
      process.stderr.write(`pqseal: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`pqseal: ${(e as Error).message ?? String(e)}\n`);
    return EXIT.failure;
  }
}

process.exitCode = await main(process.argv.slice(2));

import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  Client,
  login,
  managed,
  PqsealError,
  verifyOffline,
  type DecryptVerifyResult,
  type OfflineVerification,
  type Permission,
  type PublicKeysInput,
} from '@pqseal/sdk';
import { runBatch, wireVerify } from './batch.js';
import { EXIT, exitCodeOf } from './exit.js';
import { InputError, readInput, toData, writeOutput, type Progress } from './io.js';
import { UnsafeOutputPathError } from '../private-file.js';
import { missingCredentials, ProfileError, resolveSettings, type ClientSettings } from './profile.js';

/**
 * The client commands of `pqseal`: they talk to a running server through the SDK (@pqseal/sdk, packages/sdk), unlike
 * the administration commands, which open the store in DATA_DIR. Exit codes: src/cli/client/exit.ts.
 */

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

const COMMON: Options = {
  url: { type: 'string' },
  profile: { type: 'string' },
  api: { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const INPUT: Options = { data: { type: 'string' }, file: { type: 'string' }, out: { type: 'string' }, base64: { type: 'boolean' } };
const SHARING: Options = { partner: { type: 'string', multiple: true }, actions: { type: 'string' }, expires: { type: 'string' } };
const BATCH: Options = { batch: { type: 'string' } };
const BATCH_HELP = `--batch <path|->: a batch, one JSON item per line from the file (- = stdin), sent as one batch_input;
one JSON line per result on stdout (or --out), in order: the result, or {"error":{"code","message"}}.`;

const CONNECTION_HELP = `Connection and credentials:
  --url <url>          server base URL (else PQSEAL_URL, the profile's "url", http://127.0.0.1:8080)
  --profile <path>     JSON profile (else PQSEAL_PROFILE, else ~/.config/pqseal/profile.json);
                       keys: url, username, password, api_key, access_key, secret_key; must be mode 0600
  environment          PQSEAL_USERNAME PQSEAL_PASSWORD PQSEAL_API_KEY PQSEAL_ACCESS_KEY PQSEAL_SECRET_KEY
                       (override the profile field by field)
  --api managed|direct managed (default): /v1 with the five headers; direct: sign in, then bearer token
  --timeout <ms>       per attempt (default 30000)   --retries <n>  retries when safe (default 2)
  --json               one JSON object on stdout     -h, --help
Exit codes: 0 ok, 1 failure, 2 usage, 3 auth, 4 verification failure, 5 server/network.`;

interface Spec {
  readonly usage: string;
  readonly summary: string;
  readonly details: string;
  readonly options: Options;
  run(values: Values, client: Client, settings: ClientSettings): Promise<number>;
}

const SPECS: Record<string, Spec> = {
  'sign-encrypt': {
    usage: 'pqseal sign-encrypt [--data <text> | --file <path> | < stdin] [--partner <org id>]… [--out <path>]',
    summary: "sign with your organisation's key, then encrypt; prints encrypted_data",
    details: `Input: --data, --file, or stdin (exactly as given; UTF-8 text, or any bytes with --base64).
Sharing: --partner <org id> (repeatable) lets a partner organisation decrypt it; --actions read[,write]
(default read); --expires <ISO 8601> ends the grant.
Output: the envelope (encrypted_data) on stdout, or --out; --json: {"encrypted_data","envelope_id"}.
${BATCH_HELP} Items: {"data": "…", "permissions": [{"partner_id", "permissions", "expires_at"}]} (as the API's).
Exit: 0 when every item succeeded, else the exit code of the first item that failed.`,
    options: { ...INPUT, ...SHARING, ...BATCH },
    run: (v, c) => (v.batch !== undefined ? runBatch('sign-encrypt', v, c) : seal(v, c, true)),
  },
  encrypt: {
    usage: 'pqseal encrypt [--data <text> | --file <path> | < stdin] [--partner <org id>]… [--out <path>]',
    summary: 'encrypt to your organisation (no signature); prints encrypted_data',
    details: `As sign-encrypt, without a signature: pairs with decrypt.
${BATCH_HELP} Items: {"data": "…", "permissions": [{"partner_id", "permissions", "expires_at"}]} (as the API's).`,
    options: { ...INPUT, ...SHARING, ...BATCH },
    run: (v, c) => (v.batch !== undefined ? runBatch('encrypt', v, c) : seal(v, c, false)),
  },
  decrypt: {
    usage: 'pqseal decrypt [--data <envelope> | --file <path> | < stdin] [--out <path>] [--base64]',
    summary: 'decrypt an envelope; prints the plaintext',
    details: `Input: the encrypted_data string (surrounding whitespace is ignored).
Output: the plaintext exactly, on stdout or --out (always a new file of mode 0600 renamed into place; a
symbolic link is refused); --base64 decodes data that
was sealed with --base64; --json: {"decrypted_data","envelope_id","signed"}. decrypt does not check a
signature and proves nothing about who made the envelope: use decrypt-verify for that.
${BATCH_HELP} Items: {"encrypted_data": "…"}.`,
    options: { ...INPUT, ...BATCH },
    run: (v, c) => (v.batch !== undefined ? runBatch('decrypt', v, c) : open(v, c, false)),
  },
  'decrypt-verify': {
    usage: 'pqseal decrypt-verify [--data <envelope> | --file <path> | < stdin] [--out <path>] [--verify-offline [--public-keys <file>]]',
    summary: 'decrypt and verify the signature; exit 4 when it does not hold',
    details: `Output: the plaintext on stdout (or --out); the verdict on stderr (signed by, signed at). When the
signature does not hold the plaintext is withheld (exit 4); --json shows it, with the verdict.
--verify-offline also checks the signature here, with the pure-JS verifier of the SDK, against the
signer's published keys: from --public-keys <file> (GET /v1/keys/<org id>, obtained independently),
else fetched from the server. Both verdicts must hold.
--json: the decrypt-verify result (snake_case, with signature and signer ids) plus "offline_verification".
Exit 4 when the signature does not hold, or the envelope is tampered, foreign or unsigned.
${BATCH_HELP} Items: {"encrypted_data": "…"}. Results as --json shows them (the plaintext with
is_valid_signature); exit 4 when any signature does not hold.`,
    options: { ...INPUT, ...BATCH, 'verify-offline': { type: 'boolean' }, 'public-keys': { type: 'string' } },
    run: (v, c) => (v.batch !== undefined ? runBatch('decrypt-verify', v, c) : open(v, c, true)),
  },
  share: {
    usage: 'pqseal share --partner <org id> [--partner …] [--data <text> | --file <path> | < stdin] [--unsigned]',
    summary: 'sign-encrypt (or --unsigned: encrypt) shared with partner organisations',
    details: `The same as sign-encrypt with at least one --partner. The partners decrypt it with their own
credentials until you revoke it (pqseal revoke) or --expires passes.`,
    options: { ...INPUT, ...SHARING, unsigned: { type: 'boolean' } },
    run: async (v, c) => {
      if (list(v.partner).length === 0) throw new InputError('share needs at least one --partner <org id>');
      return seal(v, c, v.unsigned !== true);
    },
  },
  revoke: {
    usage: 'pqseal revoke --partner <org id> [--envelope <envelope id>]',
    summary: "revoke a partner's access to one envelope, or to all of yours",
    details: 'Without --envelope the revocation covers every envelope of your organisation. Idempotent. Undo with pqseal restore.',
    options: { partner: { type: 'string' }, envelope: { type: 'string' } },
    run: (v, c) => revocation(v, c, 'revoke'),
  },
  restore: {
    usage: 'pqseal restore --partner <org id> [--envelope <envelope id>]',
    summary: 'undo a revoke (same partner and envelope)',
    details: 'Idempotent.',
    options: { partner: { type: 'string' }, envelope: { type: 'string' } },
    run: (v, c) => revocation(v, c, 'restore'),
  },
  revocations: {
    usage: 'pqseal revocations [--partner <org id>] [--envelope <envelope id>] [--limit <n>] [--cursor <c>]',
    summary: 'list the revocations your organisation has made',
    details: 'The grants themselves are inside the envelopes; the server lists revocations.',
    options: { partner: { type: 'string' }, envelope: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    run: async (v, c) => {
      const page = await c.listPermissions({ partnerId: str(v.partner), envelopeId: str(v.envelope), limit: int(v.limit, 'limit'), cursor: str(v.cursor) });
      if (v.json) return printJson({ owner_org_id: page.ownerOrgId, revocations: page.revocations.map(snake), next_cursor: page.nextCursor });
      const lines = page.revocations.map((r) => `${r.revokedAt}  ${r.partnerId}  ${r.envelopeId ?? '(all envelopes)'}`);
      process.stdout.write(`${lines.join('\n') || '(no revocations)'}\n`);
      if (page.nextCursor) process.stderr.write(`more: --cursor ${page.nextCursor}\n`);
      return EXIT.ok;
    },
  },
  audit: {
    usage: 'pqseal audit [--operation <op>] [--envelope <id>] [--outcome success|failure] [--from <ISO>] [--to <ISO>] [--limit <n>] [--cursor <c> | --all]',
    summary: "your organisation's audit records, newest first",
    details: `--all follows next_cursor to the end. --json: {"records":[…],"next_cursor"} (records as the API has them).
Administration of the log on the server host: pqseal audit verify | export | checkpoint (see pqseal audit verify --help).`,
    options: {
      operation: { type: 'string' },
      envelope: { type: 'string' },
      outcome: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      all: { type: 'boolean' },
    },
    run: async (v, c) => {
      const filters = {
        operation: str(v.operation),
        envelopeId: str(v.envelope),
        outcome: auditOutcome(v.outcome),
        from: str(v.from),
        to: str(v.to),
        limit: int(v.limit, 'limit'),
      };
      let records;
      let next: string | null = null;
      if (v.all) {
        records = [];
        for await (const r of c.auditRecords(filters)) records.push(r);
      } else {
        const page = await c.audit({ ...filters, cursor: str(v.cursor) });
        records = page.records;
        next = page.nextCursor;
      }
      if (v.json) return printJson({ records: records.map(snake), next_cursor: next });
      const lines = records.map((r) =>
        [r.time, `#${r.seq}`, r.operation.padEnd(19), r.outcome.padEnd(7), (r.errorCode ?? '').padEnd(22), r.envelopeId ?? '-', r.via, r.requestId ?? ''].join(
          '  ',
        ),
      );
      process.stdout.write(`${lines.join('\n') || '(no records)'}\n`);
      if (next) process.stderr.write(`more: --cursor ${next}\n`);
      return EXIT.ok;
    },
  },
};

/** The part of `pqseal --help` about the client commands. */
export const CLIENT_HELP = `Client (talks to a server; credentials from PQSEAL_* variables or a 0600 profile)
${Object.entries(SPECS)
  .map(([name, s]) => `  ${name.padEnd(15)} ${s.summary}`)
  .join('\n')}
  (each accepts --help; pqseal sign-encrypt --help lists the connection options)`;

const ADMIN_AUDIT = new Set(['verify', 'export', 'checkpoint']);

/** The runner for `command` when it is a client command (`audit verify|export|checkpoint` is not). */
export function clientCommand(command: string, rest: readonly string[]): ((args: string[]) => Promise<number>) | undefined {
  if (!(command in SPECS)) return undefined;
  if (command === 'audit' && rest[0] !== undefined && ADMIN_AUDIT.has(rest[0])) return undefined;
  // `restore --from FILE` restores a store backup (an admin command); `restore --partner` undoes a revoke.
  if (command === 'restore' && rest.some((arg) => arg === '--from' || arg.startsWith('--from='))) return undefined;
  return (args) => runClient(command, args);
}

export async function runClient(command: string, args: string[]): Promise<number> {
  const spec = SPECS[command] as Spec;
  let values: Values;
  try {
    values = parseArgs({ args, options: { ...COMMON, ...spec.options }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    return fail(EXIT.usage, `${(e as Error).message}\nusage: ${spec.usage}`);
  }
  if (values.help) {
    process.stdout.write(`usage: ${spec.usage}\n\n${spec.summary}.\n${spec.details}\n\n${CONNECTION_HELP}\n`);
    return EXIT.ok;
  }
  try {
    const settings = resolveSettings({ url: str(values.url), profile: str(values.profile) });
    const missing = missingCredentials(settings);
    if (missing.length > 0) {
      return fail(
        EXIT.usage,
        `missing credentials: set ${missing.join(', ')}${settings.profile ? ` or add them to ${settings.profile}` : ', or use a profile (--profile <path>, mode 0600)'}`,
      );
    }
    const api = str(values.api) ?? 'managed';
    if (api !== 'managed' && api !== 'direct') throw new InputError('--api must be managed or direct');
    const user = { username: settings.username as string, password: settings.password as string };
    const client = new Client({
      baseUrl: settings.url,
      credentials: { apiKey: settings.apiKey as string, accessKey: settings.accessKey as string, secretKey: settings.secretKey as string },
      auth: api === 'managed' ? managed(user) : login(user),
      timeoutMs: int(values.timeout, 'timeout') ?? 30_000,
      retry: { maxAttempts: (int(values.retries, 'retries') ?? 2) + 1, backoffMs: 250 },
      userAgent: 'pqseal-cli/0.1.0',
    });
    return await spec.run(values, client, settings);
  } catch (e) {
    return reportError(e);
  }
}

// ------------------------------------------------------------------------------------------------

async function seal(v: Values, c: Client, signed: boolean): Promise<number> {
  const { bytes, progress } = await readInput({ data: str(v.data), file: str(v.file) }, 'data');
  const data = toData(bytes, v.base64 === true);
  const permissions = partners(v);
  const result = await withProgress(progress, signed ? 'signing and encrypting' : 'encrypting', () =>
    signed ? c.signEncrypt({ data, permissions }) : c.encrypt({ data, permissions }),
  );
  if (v.json) return printJson({ encrypted_data: result.encryptedData, envelope_id: result.envelopeId }, str(v.out));
  writeOutput(`${result.encryptedData}\n`, str(v.out), false);
  if (process.stderr.isTTY)
    process.stderr.write(
      `pqseal: envelope ${result.envelopeId}${permissions.length ? `, shared with ${permissions.map((p) => p.partnerId).join(', ')}` : ''}\n`,
    );
  return EXIT.ok;
}

async function open(v: Values, c: Client, verify: boolean): Promise<number> {
  const { bytes, progress } = await readInput({ data: str(v.data), file: str(v.file) }, 'envelope');
  const encryptedData = new TextDecoder().decode(bytes).trim();
  if (encryptedData === '') throw new InputError('the envelope is empty');
  if (!verify) {
    const r = await withProgress(progress, 'decrypting', () => c.decrypt({ encryptedData }));
    if (v.json)
      return printJson(
        { decrypted_data: r.decryptedData, envelope_id: r.envelopeId, signed: r.signed, ...(r.dataEncoding ? { data_encoding: r.dataEncoding } : {}) },
        str(v.out),
      );
    writeOutput(plaintext(r.decryptedData, r.dataEncoding, v.base64 === true), str(v.out), true);
    return EXIT.ok;
  }
  const r = await withProgress(progress, 'decrypting and verifying', () => c.decryptVerify({ encryptedData }));
  let offline: OfflineVerification | undefined;
  if (v['verify-offline'] || v['public-keys'] !== undefined) {
    const file = str(v['public-keys']);
    const publicKeys: PublicKeysInput = file !== undefined ? readKeysFile(file) : await c.getPublicKeys(r.signerOrgId);
    offline = verifyOffline({ decryptVerifyResult: r, publicKeys });
  }
  const valid = r.isValidSignature && (offline === undefined || offline.valid);
  if (v.json) {
    printJson(
      { ...wireVerify(r), ...(offline ? { offline_verification: { valid: offline.valid, reason: offline.reason ?? null, message: offline.message } } : {}) },
      str(v.out),
    );
  } else {
    // Unverified plaintext is not passed on to a pipe: only --json (which says it is invalid) shows it.
    if (valid) writeOutput(plaintext(r.decryptedData, r.dataEncoding, v.base64 === true), str(v.out), true);
    process.stderr.write(`${verdict(r, offline)}${valid ? '' : '\npqseal: the plaintext is withheld; --json shows it with the verdict'}\n`);
  }
  return valid ? EXIT.ok : EXIT.verification;
}

async function revocation(v: Values, c: Client, action: 'revoke' | 'restore'): Promise<number> {
  const partnerId = str(v.partner);
  if (!partnerId) throw new InputError(`${action} needs --partner <org id>`);
  const input = { partnerId, ...(str(v.envelope) ? { envelopeId: str(v.envelope) as string } : {}) };
  const r = action === 'revoke' ? await c.revoke(input) : await c.restore(input);
  if (v.json) return printJson(snake({ ...r, requestId: undefined }));
  const scope = r.envelopeId ? `envelope ${r.envelopeId}` : 'all envelopes of your organisation';
  const state = r.accessRevoked ? 'revoked' : 'allowed';
  process.stdout.write(`${partnerId}: access to ${scope} is ${state}${r.changed ? '' : ' (unchanged)'}\n`);
  return EXIT.ok;
}

// ------------------------------------------------------------------------------------------------

async function withProgress<T>(progress: Progress, label: string, call: () => Promise<T>): Promise<T> {
  progress.waiting(label);
  try {
    return await call();
  } finally {
    progress.done();
  }
}

function partners(v: Values): Permission[] {
  const ids = list(v.partner);
  const actions = (str(v.actions) ?? 'read')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const expires = str(v.expires);
  if (expires !== undefined && Number.isNaN(Date.parse(expires))) throw new InputError('--expires must be an ISO 8601 instant, e.g. 2030-01-01T00:00:00Z');
  if (ids.length === 0 && (v.actions !== undefined || expires !== undefined)) throw new InputError('--actions and --expires need --partner');
  return ids.map((partnerId) => ({ partnerId, actions, ...(expires !== undefined ? { expiresAt: expires } : {}) }));
}

function plaintext(data: string, encoding: 'base64' | undefined, base64: boolean): string | Uint8Array {
  return base64 || encoding === 'base64' ? Buffer.from(data, 'base64') : data;
}

function verdict(r: DecryptVerifyResult, offline: OfflineVerification | undefined): string {
  const lines: string[] = [];
  if (r.isValidSignature) lines.push(`pqseal: valid signature — signed by ${r.signedBy} at ${r.signedTimestamp} (key ${r.signerKeyId})`);
  else lines.push(`pqseal: INVALID signature — the envelope claims ${r.repudiator ?? r.signedBy} as signer (${r.signatureError ?? 'SIGNATURE_MISMATCH'})`);
  if (offline)
    lines.push(
      offline.valid ? `pqseal: verified offline too: ${offline.message}` : `pqseal: offline verification FAILED (${offline.reason}): ${offline.message}`,
    );
  return lines.join('\n');
}

function readKeysFile(path: string): PublicKeysInput {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PublicKeysInput;
  } catch (e) {
    throw new InputError(`cannot read the public keys in ${path}: ${(e as Error).message}`);
  }
}

function printJson(value: unknown, out?: string): number {
  writeOutput(`${JSON.stringify(value)}\n`, out, false);
  return EXIT.ok;
}

function snake(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function auditOutcome(v: unknown): 'success' | 'failure' | undefined {
  const outcome = str(v);
  if (outcome === undefined || outcome === 'success' || outcome === 'failure') return outcome;
  throw new InputError('--outcome must be success or failure');
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : typeof v === 'string' ? [v] : [];
}

function int(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InputError(`--${name} must be a whole number`);
  return n;
}

function fail(code: number, message: string): number {
  process.stderr.write(`pqseal: ${message}\n`);
  return code;
}

/** One line on stderr (with the request id when there is one) and the exit code for the error. */
function reportError(e: unknown): number {
  if (e instanceof InputError || e instanceof ProfileError || e instanceof UnsafeOutputPathError) return fail(EXIT.usage, e.message);
  if (e instanceof PqsealError) {
    const where = [e.status !== undefined ? `HTTP ${e.status}` : undefined, e.requestId ? `request id ${e.requestId}` : undefined].filter(Boolean).join(', ');
    return fail(exitCodeOf(e), `${e.code}: ${e.message}${where ? ` (${where})` : ''}`);
  }
  return fail(EXIT.failure, (e as Error)?.message ?? String(e));
}

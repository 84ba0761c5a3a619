import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Progress, PROGRESS_THRESHOLD_BYTES } from '../../src/cli/client/io.js';
import type { NewOrganisation } from '../../src/core/organisations.js';
import { loadProviders } from '../../src/crypto/providers.js';
import { seal } from '../../src/envelope/index.js';
import { decodeBase64Url } from '@pqseal/sdk/envelope';
import { makeOrg } from '../helpers/org-keys.js';
import { registerSecret, startTestServer, type TestServer, tempDir } from '../helpers/server.js';

/**
 * The client commands of `pqseal`, run as a user runs them (`node bin/pqseal.js …` in a child
 * process) against a real server. HOME and XDG_CONFIG_HOME point at a temporary directory so that no
 * profile of the machine's user is read.
 */

const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;
const MESSAGE = 'from the CLI org: claim 8812 approved\n— émoji 🔐 and a trailing newline\n';

let server: TestServer;
let rockville: NewOrganisation;
let partner: NewOrganisation;
let home: string;

before(async () => {
  server = await startTestServer();
  rockville = await server.createOrg('Rockville Insurance Group');
  partner = await server.createOrg('Partner Health Ltd');
  home = tempDir('pqseal-cli-home-');
  registerSecret(MESSAGE);
});
after(async () => {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly out: string;
}

function envOf(org: NewOrganisation | undefined, extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, '.config') };
  if (org) {
    Object.assign(base, {
      PQSEAL_URL: server.url,
      PQSEAL_USERNAME: org.username,
      PQSEAL_PASSWORD: org.password,
      PQSEAL_API_KEY: org.api_key,
      PQSEAL_ACCESS_KEY: org.access_key,
      PQSEAL_SECRET_KEY: org.secret_key,
    });
  }
  return { ...base, ...extra };
}

function cli(args: string[], options: { env?: Record<string, string>; input?: string | Uint8Array } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: options.env ?? envOf(rockville), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
    child.stdin.end(options.input ?? '');
  });
}

function tmp(name: string): string {
  const dir = tempDir('pqseal-cli-');
  return join(dir, name);
}

describe('round trips', () => {
  test('sign-encrypt from stdin, decrypt-verify from stdin: the exact bytes come back, the verdict goes to stderr', async () => {
    const sealed = await cli(['sign-encrypt'], { input: MESSAGE });
    assert.equal(sealed.code, 0, sealed.stderr);
    const envelope = sealed.out.trim();
    assert.match(envelope, /^[A-Za-z0-9_-]{1000,}$/);
    assert.equal(sealed.out, `${envelope}\n`, 'just the envelope on stdout');

    const opened = await cli(['decrypt-verify'], { input: sealed.out });
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(opened.out, MESSAGE, 'byte for byte, trailing newline included');
    assert.match(opened.stderr, /valid signature — signed by Rockville Insurance Group at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/);

    const plain = await cli(['decrypt', '--data', envelope]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.out, MESSAGE);
  });

  test('--file in, --out out (mode 0600), a 1.5 MiB file through encrypt/decrypt', async () => {
    const input = tmp('in.txt');
    const big = `${'pqseal '.repeat(220_000)}\n`;
    writeFileSync(input, big);
    const envelopeFile = tmp('envelope.txt');
    const sealed = await cli(['encrypt', '--file', input, '--out', envelopeFile]);
    assert.equal(sealed.code, 0, sealed.stderr);
    assert.equal(sealed.out, '');
    assert.equal(sealed.stderr, '', 'no progress indicator when stderr is not a terminal');
    const output = tmp('out.txt');
    const opened = await cli(['decrypt', '--file', envelopeFile, '--out', output]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(readFileSync(output, 'utf8'), big);
    assert.equal(statSync(output).mode & 0o777, 0o600, 'decrypted output is private');
  });

  test('--out replaces an existing file with a new 0600 file (its old mode is not kept) and leaves no temporary file', async () => {
    const envelope = (await cli(['encrypt', '--data', MESSAGE])).out.trim();
    const output = tmp('existing.txt');
    writeFileSync(output, 'old public content\n', { mode: 0o644 });
    chmodSync(output, 0o644);
    const opened = await cli(['decrypt', '--data', envelope, '--out', output]);
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(readFileSync(output, 'utf8'), MESSAGE);
    assert.equal(statSync(output).mode & 0o777, 0o600, 'plaintext never sits in a world-readable file');
    assert.deepEqual(readdirSync(dirname(output)), ['existing.txt']);
  });

  test('--out refuses a symbolic link (exit 2, clear message) and writes nothing through it', async () => {
    const envelope = (await cli(['encrypt', '--data', MESSAGE])).out.trim();
    const target = tmp('target.txt');
    writeFileSync(target, 'untouched\n', { mode: 0o644 });
    const link = join(dirname(target), 'link.txt');
    symlinkSync(target, link);
    for (const command of [['decrypt'], ['decrypt', '--json']]) {
      const opened = await cli([...command, '--data', envelope, '--out', link]);
      assert.equal(opened.code, 2, opened.stderr);
      assert.match(opened.stderr, /link\.txt is a symbolic link; refusing to write through it/);
      assert.equal(readFileSync(target, 'utf8'), 'untouched\n', 'the link target is not written');
      assert.ok(lstatSync(link).isSymbolicLink(), 'the link is left as it was');
      assert.deepEqual(readdirSync(dirname(target)).sort(), ['link.txt', 'target.txt'], 'no temporary file left behind');
    }
    // A dangling link is refused too (writing would create its target).
    const dangling = join(dirname(target), 'dangling.txt');
    symlinkSync(join(dirname(target), 'nowhere.txt'), dangling);
    const r = await cli(['decrypt', '--data', envelope, '--out', dangling]);
    assert.equal(r.code, 2, r.stderr);
    assert.throws(() => statSync(join(dirname(target), 'nowhere.txt')), /ENOENT/);
  });

  test('--json output for each operation, on the Managed and the Direct API', async () => {
    for (const api of ['managed', 'direct']) {
      const sealed = await cli(['sign-encrypt', '--json', '--api', api, '--data', MESSAGE]);
      assert.equal(sealed.code, 0, sealed.stderr);
      const s = JSON.parse(sealed.out) as { encrypted_data: string; envelope_id: string };
      assert.deepEqual(Object.keys(s).sort(), ['encrypted_data', 'envelope_id']);
      const verified = await cli(['decrypt-verify', '--json', '--api', api, '--data', s.encrypted_data]);
      assert.equal(verified.code, 0, verified.stderr);
      const v = JSON.parse(verified.out) as Record<string, unknown>;
      assert.equal(v.decrypted_data, MESSAGE);
      assert.equal(v.is_valid_signature, true);
      assert.equal(v.signed_by, 'Rockville Insurance Group');
      assert.equal(v.signer_org_id, rockville.org_id);
      assert.equal(v.envelope_id, s.envelope_id);
      const decrypted = await cli(['decrypt', '--json', '--api', api], { input: s.encrypted_data });
      assert.deepEqual(JSON.parse(decrypted.out), { decrypted_data: MESSAGE, envelope_id: s.envelope_id, signed: true });
    }
  });

  test('binary files need --base64 both ways; without it the CLI refuses (usage)', async () => {
    const bytes = randomBytes(4096);
    bytes[0] = 0xff; // never valid UTF-8
    const input = tmp('blob.bin');
    writeFileSync(input, bytes);
    const refused = await cli(['encrypt', '--file', input]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not UTF-8 text; pass --base64/);
    const sealed = await cli(['encrypt', '--file', input, '--base64']);
    assert.equal(sealed.code, 0, sealed.stderr);
    const opened = await cli(['decrypt', '--base64'], { input: sealed.out });
    assert.equal(opened.code, 0, opened.stderr);
    assert.deepEqual(opened.stdout, bytes);
  });

  test('decrypt-verify --verify-offline checks the signature locally as well (keys from the server or a file)', async () => {
    const sealed = await cli(['sign-encrypt', '--data', MESSAGE]);
    const fetched = await cli(['decrypt-verify', '--verify-offline', '--json'], { input: sealed.out });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual((JSON.parse(fetched.out) as { offline_verification: unknown }).offline_verification, {
      valid: true,
      reason: null,
      message: (JSON.parse(fetched.out) as { offline_verification: { message: string } }).offline_verification.message,
    });
    const keysFile = tmp('keys.json');
    writeFileSync(keysFile, await (await fetch(`${server.url}/v1/keys/${rockville.org_id}`)).text());
    const fromFile = await cli(['decrypt-verify', '--public-keys', keysFile], { input: sealed.out });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stderr, /verified offline too/);
    const wrongKeys = tmp('wrong.json');
    writeFileSync(wrongKeys, await (await fetch(`${server.url}/keys/${partner.org_id}`)).text());
    const wrong = await cli(['decrypt-verify', '--public-keys', wrongKeys], { input: sealed.out });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /offline verification FAILED \(SIGNER_KEY_UNKNOWN\)/);
    assert.equal(wrong.out, '', 'the plaintext is withheld');
  });
});

describe('exit codes', () => {
  test('usage (2): unknown flag, bad value, empty envelope, missing credentials', async () => {
    const unknown = await cli(['encrypt', '--frobnicate']);
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.match(unknown.stderr, /usage: pqseal encrypt/);
    assert.equal((await cli(['audit', '--outcome', 'maybe'])).code, 2);
    assert.equal((await cli(['encrypt', '--data', 'x', '--api', 'sideways'])).code, 2);
    assert.equal((await cli(['decrypt'], { input: '  \n' })).code, 2);
    assert.equal((await cli(['revoke'])).code, 2);
    const missing = await cli(['encrypt', '--data', 'x'], { env: envOf(undefined, { PQSEAL_URL: server.url, PQSEAL_USERNAME: rockville.username }) });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing credentials: set PQSEAL_PASSWORD, PQSEAL_API_KEY, PQSEAL_ACCESS_KEY, PQSEAL_SECRET_KEY/);
  });

  test('auth (3): wrong password on either API, wrong partner secret; the request id is shown', async () => {
    for (const api of ['managed', 'direct']) {
      const r = await cli(['sign-encrypt', '--api', api, '--data', 'x'], { env: envOf(rockville, { PQSEAL_PASSWORD: 'not-the-password-1' }) });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /NOT_AUTHORIZED/);
      assert.match(r.stderr, /request id [0-9a-f-]{36}/);
    }
    const partnerSecret = await cli(['encrypt', '--data', 'x'], { env: envOf(rockville, { PQSEAL_SECRET_KEY: 'nope' }) });
    assert.equal(partnerSecret.code, 3);
    assert.match(partnerSecret.stderr, /PARTNER_CREDENTIALS_INVALID/);
  });

  test('verification (4): a signature that does not hold, a tampered envelope, an unsigned one', async () => {
    // An envelope addressed to Rockville, claiming Rockville's signing key, signed by someone else.
    const keys = (await (await fetch(`${server.url}/keys/${rockville.org_id}`)).json()) as { keys: { key_id: string; kind: string; public_key: string }[] };
    const kem = keys.keys.find((k) => k.kind === 'kem') as { key_id: string; public_key: string };
    const providers = await loadProviders('noble');
    const impostor = makeOrg(providers, 'impostor', 'Impostor');
    const forged = seal(providers, {
      plaintext: 'forged approval',
      recipient: { orgId: rockville.org_id, kemKeyId: kem.key_id, publicKey: decodeBase64Url(kem.public_key) },
      signer: { orgId: rockville.org_id, keyId: `${rockville.org_id}.sig.v1`, displayName: 'Rockville Insurance Group', key: impostor.signing },
    }).envelope;
    const r = await cli(['decrypt-verify'], { input: forged });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.out, '', 'unverified plaintext is not written to stdout');
    assert.match(r.stderr, /INVALID signature — the envelope claims Rockville Insurance Group as signer \(SIGNATURE_MISMATCH\)/);
    const asJson = await cli(['decrypt-verify', '--json'], { input: forged });
    assert.equal(asJson.code, 4);
    assert.deepEqual(
      (({ decrypted_data, is_valid_signature, repudiator }) => ({ decrypted_data, is_valid_signature, repudiator }))(
        JSON.parse(asJson.out) as Record<string, unknown>,
      ),
      { decrypted_data: 'forged approval', is_valid_signature: false, repudiator: 'Rockville Insurance Group' },
    );

    const sealed = (await cli(['sign-encrypt', '--data', 'tamper me'])).out.trim();
    const mid = Math.floor(sealed.length / 2);
    const tampered = sealed.slice(0, mid) + (sealed[mid] === 'A' ? 'B' : 'A') + sealed.slice(mid + 1);
    const t = await cli(['decrypt-verify', '--data', tampered]);
    assert.equal(t.code, 4);
    assert.match(t.stderr, /ENVELOPE_AUTH_FAILED/);
    const unsigned = (await cli(['encrypt', '--data', 'x'])).out;
    const u = await cli(['decrypt-verify'], { input: unsigned });
    assert.equal(u.code, 4);
    assert.match(u.stderr, /ENVELOPE_NOT_SIGNED/);
  });

  test('server/network (5): nothing listening', async () => {
    const r = await cli(['encrypt', '--data', 'x', '--url', 'http://127.0.0.1:9', '--retries', '0']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /NETWORK_ERROR/);
  });

  test('--help on every command exits 0 with its usage; `audit verify` is still the administration command', async () => {
    for (const command of ['sign-encrypt', 'encrypt', 'decrypt', 'decrypt-verify', 'share', 'revoke', 'restore', 'revocations', 'audit']) {
      const r = await cli([command, '--help'], { env: envOf(undefined) });
      assert.equal(r.code, 0, command);
      assert.match(r.out, new RegExp(`usage: pqseal ${command}`));
      assert.match(r.out, /Exit codes: 0 ok, 1 failure, 2 usage, 3 auth, 4 verification failure, 5 server\/network/);
    }
    const top = await cli(['--help'], { env: envOf(undefined) });
    assert.match(top.out, /Client \(talks to a server/);
    assert.match(top.out, /decrypt-verify +decrypt and verify the signature/);
    const admin = await cli(['audit', 'verify', '--help'], { env: envOf(undefined) });
    assert.equal(admin.code, 0);
    assert.match(admin.out, /pqseal audit verify/);
  });
});

describe('profiles', () => {
  const profileOf = (org: NewOrganisation, extra: Record<string, string> = {}) => JSON.stringify({ url: server.url, ...org, ...extra });

  test('a profile readable by group or others is refused; chmod 600 makes it work', async () => {
    const path = tmp('profile.json');
    writeFileSync(path, profileOf(rockville), { mode: 0o644 });
    chmodSync(path, 0o644);
    const refused = await cli(['encrypt', '--data', 'x', '--profile', path], { env: envOf(undefined) });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /refusing to use the profile .*accessible by group or others \(mode 0644\); run: chmod 600/);
    chmodSync(path, 0o640);
    assert.equal((await cli(['encrypt', '--data', 'x', '--profile', path], { env: envOf(undefined) })).code, 2);
    chmodSync(path, 0o600);
    const ok = await cli(['encrypt', '--data', 'x', '--profile', path], { env: envOf(undefined) });
    assert.equal(ok.code, 0, ok.stderr);
    const missing = await cli(['encrypt', '--data', 'x', '--profile', `${path}.nope`], { env: envOf(undefined) });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
  });

  test('~/.config/pqseal/profile.json is the default, and the environment overrides it field by field', async () => {
    const dir = join(home, '.config', 'pqseal');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'profile.json');
    writeFileSync(path, profileOf(rockville, { password: 'stale-password-in-profile' }), { mode: 0o600 });
    try {
      const stale = await cli(['encrypt', '--data', 'x'], { env: envOf(undefined) });
      assert.equal(stale.code, 3, 'the profile was read (and its password is wrong)');
      const fixed = await cli(['sign-encrypt', '--data', 'x'], { env: envOf(undefined, { PQSEAL_PASSWORD: rockville.password }) });
      assert.equal(fixed.code, 0, fixed.stderr);
      chmodSync(path, 0o604);
      const unsafe = await cli(['encrypt', '--data', 'x'], { env: envOf(undefined) });
      assert.equal(unsafe.code, 2);
    } finally {
      rmSync(path, { force: true });
    }
  });
});

describe('sharing, revocation and the audit log', () => {
  test('share → the partner decrypts → revoke → refused (3) → restore → decrypts; revocations and audit list it', async () => {
    const shared = await cli(['share', '--partner', partner.org_id, '--json', '--data', MESSAGE]);
    assert.equal(shared.code, 0, shared.stderr);
    const { encrypted_data, envelope_id } = JSON.parse(shared.out) as { encrypted_data: string; envelope_id: string };
    const asPartner = envOf(partner);
    const opened = await cli(['decrypt-verify'], { env: asPartner, input: encrypted_data });
    assert.equal(opened.code, 0, opened.stderr);
    assert.equal(opened.out, MESSAGE);

    const revoked = await cli(['revoke', '--partner', partner.org_id, '--envelope', envelope_id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.out, `${partner.org_id}: access to envelope ${envelope_id} is revoked\n`);
    const refused = await cli(['decrypt'], { env: asPartner, input: encrypted_data });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /ENVELOPE_ACCESS_DENIED/);

    const list = await cli(['revocations', '--json', '--envelope', envelope_id]);
    const revocations = (JSON.parse(list.out) as { revocations: { partner_id: string; scope: string }[] }).revocations;
    assert.deepEqual(
      revocations.map((r) => [r.partner_id, r.scope]),
      [[partner.org_id, 'envelope']],
    );

    const restored = await cli(['restore', '--partner', partner.org_id, '--envelope', envelope_id, '--json']);
    assert.equal((JSON.parse(restored.out) as { access_revoked: boolean }).access_revoked, false);
    assert.equal((await cli(['decrypt'], { env: asPartner, input: encrypted_data })).out, MESSAGE);

    const audit = await cli(['audit', '--json', '--envelope', envelope_id, '--all', '--limit', '2']);
    assert.equal(audit.code, 0, audit.stderr);
    const records = (JSON.parse(audit.out) as { records: { operation: string; chain_id: string; org_id: string }[] }).records.reverse();
    // The owner's chain holds its own operations and, since issue 10 item 6, the partner's opens of its envelope.
    assert.deepEqual(
      records.map((r) => `${r.org_id === partner.org_id ? 'partner ' : ''}${r.operation}`),
      ['sign-encrypt', 'partner decrypt-verify', 'permissions.revoke', 'partner decrypt', 'permissions.list', 'permissions.restore', 'partner decrypt'],
    );
    const partnerAudit = await cli(['audit', '--envelope', envelope_id, '--outcome', 'failure'], { env: asPartner });
    assert.match(partnerAudit.out, /decrypt +failure +ENVELOPE_ACCESS_DENIED/);
    const none = await cli(['share', '--data', 'x']);
    assert.equal(none.code, 2, 'share without --partner is a usage error');
  });
});

describe('progress indicator', () => {
  test('drawn on a terminal for large inputs only, cleared when done', async () => {
    const writes: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (s: string) => writes.push(s) > 0 };
    const p = new Progress(tty, 4 * PROGRESS_THRESHOLD_BYTES);
    p.read(PROGRESS_THRESHOLD_BYTES);
    p.read(1.5 * PROGRESS_THRESHOLD_BYTES); // within 100 ms of the last redraw: skipped
    await new Promise((r) => setTimeout(r, 120));
    p.read(2 * PROGRESS_THRESHOLD_BYTES);
    p.waiting('encrypting');
    await new Promise((r) => setTimeout(r, 250));
    p.done();
    assert.ok(
      writes.some((w) => w.includes('reading 2.0 MiB of 4.0 MiB (50%)')),
      writes.join('|'),
    );
    assert.ok(!writes.some((w) => w.includes('1.5 MiB')), 'redraws are throttled');
    assert.ok(writes.some((w) => /encrypting [|/\\-] \d+\.\d s/.test(w)));
    assert.equal(writes.at(-1), '\r\x1b[2K');

    const small: string[] = [];
    const quiet = new Progress({ isTTY: true, write: (s: string) => small.push(s) > 0 }, 1000);
    quiet.read(1000);
    quiet.waiting('encrypting');
    quiet.done();
    assert.deepEqual(small, [], 'small inputs: nothing');
    const pipe: string[] = [];
    const notTty = new Progress({ isTTY: false, write: (s: string) => pipe.push(s) > 0 }, 10 * PROGRESS_THRESHOLD_BYTES);
    notTty.read(10 * PROGRESS_THRESHOLD_BYTES);
    notTty.done();
    assert.deepEqual(pipe, [], 'not a terminal: nothing');
  });
});

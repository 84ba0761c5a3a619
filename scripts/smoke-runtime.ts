import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

/**
 * Runtime smoke test, run by .ci/run on every supported Node (this script's own `node` is the one
 * tested): starts `pqseal serve` on a temporary DATA_DIR and a free port, creates an organisation
 * with the CLI, sign-encrypts and decrypt-verifies over HTTP, stops the server and checks it exited
 * cleanly. Any failure exits 1 with the reason and the server's stderr.
 *
 *   node dist/scripts/smoke-runtime.js [--server-flag <node flag>]...
 *
 * Prints one JSON line: { ok, node, stderr } (`stderr` is the server's, for callers that check it).
 */

const run = promisify(execFile);
const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 60_000;
const PLAINTEXT = 'pqseal runtime smoke test';

interface NewOrg {
  username: string;
  password: string;
  api_key: string;
  access_key: string;
  secret_key: string;
  org_id: string;
}

function serverFlags(argv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--server-flag' || argv[i + 1] === undefined) throw new Error(`usage: smoke-runtime [--server-flag <node flag>]..., got ${argv[i]}`);
    flags.push(argv[++i] as string);
  }
  return flags;
}

function waitForListening(server: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited before listening (code ${code}, signal ${signal})`));
    });
    createInterface({ input: server.stdout! }).on('line', (line) => {
      let entry: { msg?: unknown; url?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === 'pqseal listening' && typeof entry.url === 'string') {
        clearTimeout(timer);
        resolve(entry.url);
      }
    });
  });
}

async function post(url: string, org: NewOrg, body: object): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      username: org.username,
      password: org.password,
      api_key: org.api_key,
      access_key: org.access_key,
      secret_key: org.secret_key,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  const answer = JSON.parse(text) as { statusCode?: unknown; body?: Record<string, unknown> };
  if (answer.statusCode !== 200 || !answer.body) throw new Error(`POST ${url} answered ${text.slice(0, 500)}`);
  return answer.body;
}

function stop(server: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) return resolve({ code: server.exitCode, signal: server.signalCode });
    const kill = setTimeout(() => server.kill('SIGKILL'), 30_000);
    server.once('exit', (code, signal) => {
      clearTimeout(kill);
      resolve({ code, signal });
    });
    server.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const flags = serverFlags(process.argv.slice(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'pqseal-smoke-'));
  const env = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', PQSEAL_DEMO: 'false', PQSEAL_WORKERS: '2' };
  const server = spawn(process.execPath, [...flags, MAIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  try {
    const base = await waitForListening(server);
    const { stdout } = await run(process.execPath, [MAIN, 'org', 'create', '--name', 'Smoke Test Org', '--json'], { env, timeout: 60_000 });
    const org = JSON.parse(stdout) as NewOrg;
    const sealed = await post(`${base}/v1/sign-encrypt`, org, { data: PLAINTEXT });
    if (typeof sealed.encrypted_data !== 'string') throw new Error('sign-encrypt returned no encrypted_data');
    const opened = await post(`${base}/v1/decrypt-verify`, org, { encrypted_data: sealed.encrypted_data });
    if (opened.decrypted_data !== PLAINTEXT) throw new Error('decrypt-verify did not return the plaintext');
    if (opened.is_valid_signature !== true) throw new Error('decrypt-verify did not report a valid signature');
    if (opened.signer_org_id !== undefined && opened.signer_org_id !== org.org_id) throw new Error('decrypt-verify names another signer');
    const exit = await stop(server);
    if (exit.code !== 0) throw new Error(`the server did not exit cleanly on SIGTERM (code ${exit.code}, signal ${exit.signal})`);
    process.stdout.write(`${JSON.stringify({ ok: true, node: process.version, stderr })}\n`);
  } catch (error) {
    await stop(server);
    process.stderr.write(
      `smoke-runtime FAILED on Node ${process.version}: ${error instanceof Error ? error.message : String(error)}\n--- server stderr ---\n${stderr}\n`,
    );
    process.exitCode = 1;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();

import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Runs the compiled test tiers (`npm test`, `npm run test:unit` …) with Node's test runner, each test
 * file in its own process, and exits non-zero when any tier failed. Every tier runs, so one failing
 * tier still shows the others' results. Build first (`npm run build`).
 *
 * The integration tier runs in a lane of its own while the other tiers run one after the other in a
 * second lane beside it: integration files spend much of their time waiting (timeouts, child
 * processes, fsync), so the cores stay busy. A tier's output is printed as one block when it ends.
 *
 *   node dist/scripts/test-tiers.js unit integration browser
 *
 * TEST_CONCURRENCY=1 runs each tier's files one at a time (e.g. to read one failure's output in order).
 */

interface Tier {
  /** Test files run at once: every file starts its own servers, ports and temp folders. */
  readonly concurrency: number;
  /** The tier's files, when not every file of dist/test/<tier>/ (paths relative to dist/test/). */
  readonly files?: readonly string[];
  /** Added to the environment of the tier's test processes. */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * The store and API suites again, every test server on a PostgreSQL database of its own
 * (test/helpers/postgres.ts); tests that work on the SQLite file itself skip there with their reason.
 * The PostgreSQL-only files (test/integration/postgres-*.test.ts) run in the integration tier.
 */
const POSTGRES_FILES = [
  'integration/server.api.test.js',
  'integration/server.identity.test.js',
  'integration/server.logins.test.js',
  'integration/server.tokens.test.js',
  'integration/server.cli-user-changes.test.js',
  'integration/permissions.test.js',
  'integration/sharing-audit.test.js',
  'integration/audit.test.js',
  'integration/organisation-names.test.js',
  'integration/organisation-transactions.test.js',
  'integration/envelope-origin.test.js',
];

const cores = availableParallelism();
// Integration files spend much of their time waiting on sockets, child processes and timers, so one
// more file than there are cores keeps the CPU busy; the browser tier's Chromium needs a core each.
const TIERS: Readonly<Record<string, Tier>> = {
  unit: { concurrency: cores },
  integration: { concurrency: cores + 1 },
  browser: { concurrency: cores },
  postgres: { concurrency: cores + 1, files: POSTGRES_FILES, env: { PQSEAL_TEST_DATABASE: 'postgres' } },
};

const ROOT = new URL('../../', import.meta.url);
const override = Number(process.env.TEST_CONCURRENCY);

const names = process.argv.slice(2);
const unknown = names.filter((n) => !Object.hasOwn(TIERS, n));
if (names.length === 0 || unknown.length > 0) {
  console.error(`usage: test-tiers.js <${Object.keys(TIERS).join('|')}>...${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  process.exit(2);
}

// Screenshots and other files the tests write belong to one run.
rmSync(new URL('test-results/', ROOT), { recursive: true, force: true });

async function runTier(name: string): Promise<{ name: string; ok: boolean; line: string }> {
  const tier = TIERS[name] as Tier;
  const dir = `dist/test/${name}`;
  const listed = tier.files?.map((f) => `dist/test/${f}`) ?? readdirSync(new URL(`${dir}/`, ROOT)).map((f) => `${dir}/${f}`);
  // Largest files first: they are the longest, and a long file started last would run alone at the
  // end while the other slots sit idle (size is a fair proxy for duration here).
  const files = listed
    .filter((f) => f.endsWith('.test.js'))
    .map((f) => ({ path: f, size: statSync(new URL(f, ROOT)).size }))
    .sort((a, b) => b.size - a.size || a.path.localeCompare(b.path))
    .map((f) => f.path);
  const concurrency = Number.isInteger(override) && override > 0 ? override : tier.concurrency;
  const started = performance.now();
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files], {
    cwd: fileURLToPath(ROOT),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...tier.env },
  });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`\n== ${name}: ${files.length} files, ${concurrency} at a time\n`);
  process.stdout.write(Buffer.concat(output));
  const ok = code === 0;
  return { name, ok, line: `${name}: ${ok ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds} s` };
}

async function runLane(tiers: readonly string[]): Promise<Array<{ name: string; ok: boolean; line: string }>> {
  const done = [];
  for (const name of tiers) done.push(await runTier(name));
  return done;
}

const lanes = names.includes('integration') && names.length > 1 ? [['integration'], names.filter((n) => n !== 'integration')] : [names];
const results = (await Promise.all(lanes.map(runLane))).flat();
results.sort((a, b) => names.indexOf(a.name) - names.indexOf(b.name));
console.log(`\n== ${results.map((r) => r.line).join('; ')}`);
process.exit(results.every((r) => r.ok) ? 0 : 1);

import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * Runs the compiled test tiers (`npm test`, `npm run test:unit` …) one after the other with Node's
 * test runner, each test file in its own process, and exits non-zero when any tier failed. Every tier
 * runs, so one failing tier still shows the others' results. Build first (`npm run build`).
 *
 *   node dist/scripts/test-tiers.js unit integration browser
 *
 * TEST_CONCURRENCY=1 runs each tier's files one at a time (e.g. to read one failure's output in order).
 */

interface Tier {
  /** Test files run at once: every file starts its own servers, ports and temp folders. */
  readonly concurrency: number;
}

const cores = availableParallelism();
// Integration files spend much of their time waiting on sockets, child processes and timers, so one
// more file than there are cores keeps the CPU busy; the browser tier's Chromium needs a core each.
const TIERS: Readonly<Record<string, Tier>> = {
  unit: { concurrency: cores },
  integration: { concurrency: cores + 1 },
  browser: { concurrency: cores },
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

const results: string[] = [];
let failed = false;
for (const name of names) {
  const dir = `dist/test/${name}`;
  // Listed here rather than handed to `node --test` as a folder: Node 20 searches a folder, Node 22+ takes globs.
  const files = readdirSync(new URL(`${dir}/`, ROOT))
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => `${dir}/${f}`);
  const concurrency = Number.isInteger(override) && override > 0 ? override : (TIERS[name] as Tier).concurrency;
  console.log(`\n== ${name}: ${files.length} files, ${concurrency} at a time`);
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...files], {
    cwd: fileURLToPath(ROOT),
    stdio: 'inherit',
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ok = run.status === 0;
  failed ||= !ok;
  results.push(`${name}: ${ok ? 'passed' : `FAILED (${run.signal ?? `exit ${run.status}`})`} in ${seconds} s`);
}
console.log(`\n== ${results.join('; ')}`);
process.exit(failed ? 1 : 0);

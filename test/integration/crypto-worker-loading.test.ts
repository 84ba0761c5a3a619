import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { runCeiling } from '../../bench/server/ceiling.js';
import { CryptoPool } from '../../src/core/crypto-pool.js';

/**
 * Regression: a full test run once died with a V8 fatal error while piscina loaded the crypto worker
 * through require(esm). Piscina require()s its worker file first; crypto-worker.js is an ES module
 * with top-level await, so every worker start compiled and linked the module graph synchronously,
 * failed with ERR_REQUIRE_ASYNC_MODULE and import()ed the same graph again. The fatal error itself
 * did not reproduce in about 21,000 worker starts of the old code here (docs/performance.md), so the
 * first test checks the cause: the real server, traced by Node, never require()s an ES module. The
 * second is a guard for the new start-up (tasks may arrive while the worker module is still loading).
 */

const run = promisify(execFile);
const SMOKE = new URL('../../scripts/smoke-runtime.js', import.meta.url).pathname;

test('pqseal serve seals and opens without ever require()-ing an ES module (--trace-require-module=all)', async () => {
  const { stdout } = await run(process.execPath, [SMOKE, '--server-flag', '--trace-require-module=all'], { timeout: 120_000 });
  const result = JSON.parse(stdout) as { ok: boolean; stderr: string };
  assert.equal(result.ok, true);
  assert.doesNotMatch(result.stderr, /is loading ES Module .* using require\(\)/);
});

test("crypto pools closed at random moments of their workers' start, or after a task, never take the process down", async () => {
  const masterKey = randomBytes(32);
  for (let round = 0; round < 12; round++) {
    await Promise.all(
      [0, 1].map(async (i) => {
        const pool = new CryptoPool({ masterKey, threads: 2 });
        if ((round + i) % 3 === 0) await runCeiling(pool, 'ceiling-seal', 64);
        else await sleep(Math.floor(Math.random() * 200));
        await pool.close();
      }),
    );
  }
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/server.js';

/**
 * Smoke test for `npm run bench`: `--smoke` (one concurrency, half a second per scenario, a
 * one-second sustained run, the backpressure server, no profiling) into a temporary directory must
 * exit 0 and write the JSON report, latest.md and the SVG chart with every scenario. It checks the
 * harness end to end (server child process, org creation, autocannon, stats route, report), never
 * the performance figures: they are meaningless at this length. The issue-13 scenarios run too (the
 * per-request reference process, batch_input calls, a PQSEAL_SEAL_BATCH_MAX=1 server); only
 * decrypt-verify of batch-sealed envelopes may be reported as not measured, and only with its reason,
 * when the server has no batch API to seal them with.
 */

const BENCH = fileURLToPath(new URL('../../bench/load.js', import.meta.url));

const EXPECTED_SCENARIOS = [
  'bare',
  'crypto-seal',
  'crypto-open',
  'managed-sign-encrypt-1k',
  'managed-encrypt-1k',
  'managed-decrypt-verify-1k',
  'direct-sign-encrypt-1k',
  'managed-sign-encrypt-64k',
  'managed-sign-encrypt-1m',
  'reference-sign-encrypt',
  'managed-sign-encrypt-batch100',
  'managed-sign-encrypt-1k-unbatched',
  'managed-decrypt-verify-1k-single-sealed',
  'managed-decrypt-verify-1k-batch-sealed',
] as const;

/** Scenarios that need a server feature to prepare their requests (the batch API seals their envelopes). */
const MAY_BE_UNAVAILABLE: readonly string[] = ['managed-decrypt-verify-1k-batch-sealed'];

const EXPECTED_TARGETS = [
  'managed-sign-encrypt-vs-ceiling',
  'managed-decrypt-verify-vs-ceiling',
  'direct-sign-encrypt-vs-ceiling',
  'managed-vs-direct-cost',
  'p99-over-p50',
  'event-loop-delay',
  'no-errors-below-knee',
  'peak-rss',
  'sustained-rss-growth',
  'backpressure-503',
  'issue13-single-vs-reference',
  'issue13-batch-vs-reference',
  'issue13-p99-vs-unbatched',
  'issue13-decrypt-verify-batch-sealed',
] as const;

function run(outDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_OUT_DIR: outDir };
  for (const name of [
    'BENCH_DURATION',
    'BENCH_CONCURRENCY',
    'BENCH_SUSTAIN',
    'BENCH_WARMUP',
    'BENCH_SCENARIOS',
    'BENCH_WORKERS',
    'BENCH_PROFILE_DIR',
    'BENCH_ENVELOPES',
  ])
    delete env[name];
  // A second of warm-up per scenario: on a loaded machine (other test files run alongside) a cold
  // scenario's first crypto requests can take longer than its half-second measurement, which then
  // fails with "the server answered nothing".
  env.BENCH_WARMUP = '1';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, '--smoke'], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test('bench (load) runs a tiny configuration and writes the JSON, latest.md and the chart', { timeout: 310_000 }, async () => {
  const outDir = tempDir('pqseal-bench-load-');
  try {
    const result = await run(outDir);
    assert.equal(result.signal, null, `killed by ${result.signal}\n${result.stderr}`);
    assert.equal(result.code, 0, `exit code ${result.code}\n${result.stderr}`);

    const files = readdirSync(outDir).sort();
    const jsonFiles = files.filter((f) => /^load-\d{4}-\d{2}-\d{2}\.json$/.test(f));
    assert.equal(jsonFiles.length, 1, `files written: ${files.join(', ')}`);
    assert.ok(files.includes('latest.md'), `files written: ${files.join(', ')}`);
    assert.ok(files.includes('load-chart.svg'), `files written: ${files.join(', ')}`);

    const report = JSON.parse(readFileSync(join(outDir, jsonFiles[0] as string), 'utf8'));
    assert.equal(report.schema, 'pqseal-bench-load/1');
    assert.equal(`load-${report.date}.json`, jsonFiles[0]);
    assert.equal(report.settings.smoke, true);
    assert.deepEqual(report.settings.concurrencies, [2]);

    const unavailable: { id: string; reason: string }[] = report.unavailable;
    for (const u of unavailable) {
      assert.ok(MAY_BE_UNAVAILABLE.includes(u.id), `${u.id} was not measured: ${u.reason}`);
      assert.ok(u.reason.length > 0, `${u.id}: a reason`);
    }
    assert.deepEqual(
      report.scenarios.map((s: { id: string }) => s.id),
      EXPECTED_SCENARIOS.filter((id) => !unavailable.some((u) => u.id === id)),
    );
    const reference = report.scenarios.find((s: { id: string }) => s.id === 'reference-sign-encrypt');
    assert.equal(reference.host, 'reference');
    assert.ok(reference.points[0].rps > 0, 'the reference answered 2xx');
    const batch = report.scenarios.find((s: { id: string }) => s.id === 'managed-sign-encrypt-batch100');
    assert.equal(batch.itemsPerRequest, 100);
    for (const s of report.scenarios) {
      assert.equal(s.points.length, 1, `${s.id}: one point`);
      const p = s.points[0];
      assert.equal(p.connections, 2);
      for (const field of ['rps', 'non2xx', 'errors', 'eventLoopDelayP99Ms', 'peakRssBytes', 'serverCpu']) {
        assert.equal(typeof p[field], 'number', `${s.id}.${field}`);
      }
      for (const field of ['p50', 'p90', 'p99']) assert.equal(typeof p.latency[field], 'number', `${s.id}.latency.${field}`);
      assert.equal(s.best.connections, 2);
      assert.equal(s.knee.connections, 2);
    }
    assert.deepEqual(
      report.primitives.map((p: { op: string }) => p.op),
      ['ceiling-seal', 'ceiling-open'],
    );
    assert.equal(report.sustain.scenario, 'managed-sign-encrypt-1k');
    assert.ok(Array.isArray(report.sustain.samples));
    assert.equal(report.backpressure.scenario, 'managed-sign-encrypt-1k');
    assert.deepEqual(report.profiles, []);

    assert.deepEqual(
      report.targets.map((t: { id: string }) => t.id),
      [...EXPECTED_TARGETS],
    );
    for (const t of report.targets) assert.equal(typeof t.pass, 'boolean', t.id);
    assert.equal(
      report.allTargetsPass,
      report.targets.every((t: { pass: boolean }) => t.pass),
    );

    // The printed report, the Markdown and the chart carry the same scenarios and targets.
    assert.equal(result.stdout.match(/\b(PASS|FAIL)\s*$/gm)?.length, EXPECTED_TARGETS.length);
    const md = readFileSync(join(outDir, 'latest.md'), 'utf8');
    assert.match(md, /^# pqseal load benchmark, \d{4}-\d{2}-\d{2}$/m);
    assert.match(md, /!\[Throughput vs concurrency\]\(load-chart\.svg\)/);
    assert.match(md, /^## Batch signatures \(issue 13\)$/m);
    for (const u of unavailable) assert.ok(md.includes(`${u.id} (${u.reason})`), `latest.md says why ${u.id} was not measured`);
    for (const s of report.scenarios) assert.ok(md.includes(`| ${s.label} |`), `latest.md lists ${s.label}`);
    const svg = readFileSync(join(outDir, 'load-chart.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\s*$/);
    // A scenario that served nothing has no line: the batch calls until the server has the batch API.
    const drawn = (s: { id: string; points: { rps: number }[] }) => s.id !== 'managed-sign-encrypt-batch100' || s.points.some((p) => p.rps > 0);
    for (const s of report.scenarios.filter(drawn)) assert.ok(svg.includes(`<title>${s.label}</title>`), `chart has a line for ${s.label}`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

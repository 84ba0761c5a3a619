import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BATCH_SCENARIOS, evaluateBatchTargets, renderBatchMarkdown } from '../../bench/lib/load-batch.js';
import { bestAndKnee, type Point, type ScenarioHost, type ScenarioResult } from '../../bench/lib/load-report.js';

/** The issue-13 targets of the load benchmark: ratios of two scenarios of one run. */

function point(connections: number, rps: number, p99 = 10, statusCounts: Record<string, number> = { 200: rps }): Point {
  const ok = statusCounts['200'] ?? 0;
  const latency = { count: ok, mean: p99 / 2, p50: p99 / 2, p90: p99 / 1.5, p99, max: p99 };
  return {
    connections,
    seconds: 1,
    ok,
    rps,
    latency,
    non2xx: Object.entries(statusCounts).reduce((n, [code, count]) => (code.startsWith('2') ? n : n + count), 0),
    statusCounts,
    refusedLatency: latency,
    withRetryAfter: 0,
    errors: 0,
    timeouts: 0,
    loadGenCpu: 0,
    stalledConnections: 0,
    eventLoopDelayP99Ms: 0,
    eventLoopDelayMaxMs: 0,
    peakRssBytes: 0,
    serverCpu: 1,
    mainThreadCpu: 0.5,
    otherCpu: 0,
    attempts: 1,
  };
}

function scenario(id: string, points: Point[], extra: { itemsPerRequest?: number; host?: ScenarioHost } = {}): ScenarioResult {
  return { id, label: id, kind: 'managed', method: 'POST', path: '/', payloadBytes: 1024, host: 'service', ...extra, points, ...bestAndKnee(points) };
}

const byId = (targets: ReturnType<typeof evaluateBatchTargets>, id: string) => targets.find((t) => t.id === id);

test('each issue-13 target is the ratio its description names', () => {
  const scenarios = [
    scenario(BATCH_SCENARIOS.reference, [point(4, 1000), point(16, 900, 40)], { host: 'reference' }),
    scenario(BATCH_SCENARIOS.single, [point(4, 1100, 12), point(16, 1200, 30)]),
    scenario(BATCH_SCENARIOS.batch, [point(4, 40), point(16, 60, 400)], { itemsPerRequest: 100 }),
    scenario(BATCH_SCENARIOS.unbatched, [point(4, 800, 20), point(16, 790, 80)], { host: 'service-unbatched' }),
    scenario(BATCH_SCENARIOS.decryptSingleSealed, [point(4, 1000), point(16, 1100)]),
    scenario(BATCH_SCENARIOS.decryptBatchSealed, [point(4, 1400), point(16, 1500)]),
  ];
  const targets = evaluateBatchTargets(scenarios, []);
  assert.deepEqual(
    targets.map((t) => t.id),
    ['issue13-single-vs-reference', 'issue13-batch-vs-reference', 'issue13-p99-vs-unbatched', 'issue13-decrypt-verify-batch-sealed'],
  );
  // At c=16 both: 1200 / 900 (not against the reference's best, 1000).
  assert.equal(byId(targets, 'issue13-single-vs-reference')?.value, 1200 / 900);
  assert.equal(byId(targets, 'issue13-single-vs-reference')?.pass, true);
  // Items/s at the batch's best (60 calls/s × 100) over the reference's best (1000 req/s).
  assert.equal(byId(targets, 'issue13-batch-vs-reference')?.value, 6);
  assert.equal(byId(targets, 'issue13-batch-vs-reference')?.pass, true);
  // p99 at each one's best concurrency: 30 ms (c=16) over 20 ms (c=4) = 1.5, on the limit.
  assert.equal(byId(targets, 'issue13-p99-vs-unbatched')?.value, 1.5);
  assert.equal(byId(targets, 'issue13-p99-vs-unbatched')?.pass, true);
  assert.equal(byId(targets, 'issue13-decrypt-verify-batch-sealed')?.value, 1500 / 1100);
  assert.equal(byId(targets, 'issue13-decrypt-verify-batch-sealed')?.pass, false);

  const md = renderBatchMarkdown(scenarios, targets, []);
  assert.match(md, /^## Batch signatures \(issue 13\)$/m);
  assert.match(md, /\| 6,000 \|/, 'items/s of the batch scenario');
  assert.equal(md.match(/^- \*\*issue13-/gm)?.length, 4);
});

test('a refused batch call counts for nothing, and a scenario that could not be measured fails its target with the reason', () => {
  const scenarios = [
    scenario(BATCH_SCENARIOS.reference, [point(2, 500)], { host: 'reference' }),
    scenario(BATCH_SCENARIOS.batch, [point(2, 0, 0, { 400: 90 })], { itemsPerRequest: 100 }),
    scenario(BATCH_SCENARIOS.decryptSingleSealed, [point(2, 700)]),
  ];
  const unavailable = [{ id: BATCH_SCENARIOS.decryptBatchSealed, label: 'batch-sealed', reason: 'batch_input call answered 400' }];
  const targets = evaluateBatchTargets(scenarios, unavailable);
  // The single-item and p99 targets' scenarios were left out of the run: not reported.
  assert.deepEqual(
    targets.map((t) => t.id),
    ['issue13-batch-vs-reference', 'issue13-decrypt-verify-batch-sealed'],
  );
  const batch = byId(targets, 'issue13-batch-vs-reference');
  assert.equal(batch?.value, 0);
  assert.equal(batch?.pass, false);
  assert.match(batch?.detail ?? '', /90 × 400/);
  const decrypt = byId(targets, 'issue13-decrypt-verify-batch-sealed');
  assert.equal(decrypt?.pass, false);
  assert.match(decrypt?.detail ?? '', /not measured: managed-decrypt-verify-1k-batch-sealed \(batch_input call answered 400\)/);
  assert.match(renderBatchMarkdown(scenarios, targets, unavailable), /\| batch-sealed \| not measured: batch_input call answered 400 \|/);
});

test('without c=16 in the run, the single-item target compares best points and says so', () => {
  const targets = evaluateBatchTargets(
    [scenario(BATCH_SCENARIOS.reference, [point(2, 400)], { host: 'reference' }), scenario(BATCH_SCENARIOS.single, [point(2, 450)])],
    [],
  );
  const single = byId(targets, 'issue13-single-vs-reference');
  assert.equal(single?.value, 450 / 400);
  assert.equal(single?.pass, false);
  assert.match(single?.detail ?? '', /c=16 not measured/);
});

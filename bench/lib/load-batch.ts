/**
 * The batch-signature targets of issue 13, as ratios from one run of `bench/load.ts`, and their
 * Markdown section. Each compares a scenario of the service with one measured beside it: the
 * per-request reference (bench/reference/), or the service with PQSEAL_SEAL_BATCH_MAX=1 ("today's":
 * one signature and one encapsulation per envelope).
 */
import { fmtMs, fmtRps, type Point, type ScenarioResult, type TargetResult, type UnavailableScenario } from './load-report.js';

export const BATCH_SCENARIOS = {
  reference: 'reference-sign-encrypt',
  single: 'managed-sign-encrypt-1k',
  batch: 'managed-sign-encrypt-batch100',
  unbatched: 'managed-sign-encrypt-1k-unbatched',
  decryptSingleSealed: 'managed-decrypt-verify-1k-single-sealed',
  decryptBatchSealed: 'managed-decrypt-verify-1k-batch-sealed',
} as const;

export const BATCH_TARGETS = {
  singleOverReference: 1.25,
  /** The single-item comparison is made at this concurrency. */
  singleConnections: 16,
  batchItemsOverReference: 5,
  p99OverUnbatched: 1.5,
  decryptBatchSealedOverSingleSealed: 1.5,
} as const;

/** Items per second at a scenario's best point (req/s for single-item scenarios). */
function itemsPerSecond(s: ScenarioResult): number {
  return s.best.rps * (s.itemsPerRequest ?? 1);
}

function bestPoint(s: ScenarioResult): Point | undefined {
  return s.points.find((p) => p.connections === s.best.connections);
}

function statuses(s: ScenarioResult): string {
  const non2xx = s.points.flatMap((p) => Object.entries(p.statusCounts).filter(([code]) => !code.startsWith('2')));
  const total = new Map<string, number>();
  for (const [code, n] of non2xx) total.set(code, (total.get(code) ?? 0) + n);
  const text = [...total].map(([code, n]) => `${n} × ${code}`).join(', ');
  return text ? `; non-2xx: ${text}` : '';
}

interface Comparison {
  readonly id: string;
  readonly description: string;
  readonly subject: string;
  readonly base: string;
  readonly threshold: number;
  readonly comparison: '>=' | '<=';
  /** value and detail, given both scenarios measured. */
  readonly measure: (subject: ScenarioResult, base: ScenarioResult) => { value: number; detail: string };
}

const COMPARISONS: readonly Comparison[] = [
  {
    id: 'issue13-single-vs-reference',
    description: `Managed sign-encrypt 1 KiB at c=${BATCH_TARGETS.singleConnections} ≥ ${BATCH_TARGETS.singleOverReference}× the per-request reference at c=${BATCH_TARGETS.singleConnections}`,
    subject: BATCH_SCENARIOS.single,
    base: BATCH_SCENARIOS.reference,
    threshold: BATCH_TARGETS.singleOverReference,
    comparison: '>=',
    measure: (subject, base) => {
      const c = BATCH_TARGETS.singleConnections;
      const at = (s: ScenarioResult) => s.points.find((p) => p.connections === c);
      const a = at(subject);
      const b = at(base);
      if (a && b) {
        return {
          value: b.rps > 0 ? a.rps / b.rps : 0,
          detail: `${fmtRps(a.rps)} req/s vs ${fmtRps(b.rps)} req/s at c=${c} (reference best ${fmtRps(base.best.rps)} req/s at c=${base.best.connections})${statuses(subject)}`,
        };
      }
      return {
        value: base.best.rps > 0 ? subject.best.rps / base.best.rps : 0,
        detail: `c=${c} not measured in this run: best points instead, ${fmtRps(subject.best.rps)} req/s (c=${subject.best.connections}) vs ${fmtRps(base.best.rps)} req/s (c=${base.best.connections})${statuses(subject)}`,
      };
    },
  },
  {
    id: 'issue13-batch-vs-reference',
    description: `batch_input of 100 × 1 KiB (Managed sign-encrypt) ≥ ${BATCH_TARGETS.batchItemsOverReference}× the per-request reference, in items/s, each at its best concurrency`,
    subject: BATCH_SCENARIOS.batch,
    base: BATCH_SCENARIOS.reference,
    threshold: BATCH_TARGETS.batchItemsOverReference,
    comparison: '>=',
    measure: (subject, base) => ({
      value: base.best.rps > 0 ? itemsPerSecond(subject) / base.best.rps : 0,
      detail: `${fmtRps(itemsPerSecond(subject))} items/s (${fmtRps(subject.best.rps)} calls/s × ${subject.itemsPerRequest ?? 1}, c=${subject.best.connections}) vs ${fmtRps(base.best.rps)} req/s (c=${base.best.connections})${statuses(subject)}${subject.note ? `; ${subject.note}` : ''}`,
    }),
  },
  {
    id: 'issue13-p99-vs-unbatched',
    description: `p99 of Managed sign-encrypt 1 KiB at its best concurrency ≤ ${BATCH_TARGETS.p99OverUnbatched}× today's (PQSEAL_SEAL_BATCH_MAX=1) at its best concurrency`,
    subject: BATCH_SCENARIOS.single,
    base: BATCH_SCENARIOS.unbatched,
    threshold: BATCH_TARGETS.p99OverUnbatched,
    comparison: '<=',
    measure: (subject, base) => {
      const a = bestPoint(subject);
      const b = bestPoint(base);
      const value = a && b && b.latency.p99 > 0 && a.ok > 0 ? a.latency.p99 / b.latency.p99 : Number.POSITIVE_INFINITY;
      return {
        value,
        detail: `${fmtMs(a?.latency.p99 ?? Number.NaN)} ms (c=${subject.best.connections}, ${fmtRps(subject.best.rps)} req/s) vs ${fmtMs(b?.latency.p99 ?? Number.NaN)} ms (c=${base.best.connections}, ${fmtRps(base.best.rps)} req/s)`,
      };
    },
  },
  {
    id: 'issue13-decrypt-verify-batch-sealed',
    description: `Managed decrypt-verify of batch-signed envelopes (100 per signature) ≥ ${BATCH_TARGETS.decryptBatchSealedOverSingleSealed}× that of envelopes each sealed alone (today's), same server, each at its best concurrency`,
    subject: BATCH_SCENARIOS.decryptBatchSealed,
    base: BATCH_SCENARIOS.decryptSingleSealed,
    threshold: BATCH_TARGETS.decryptBatchSealedOverSingleSealed,
    comparison: '>=',
    measure: (subject, base) => ({
      value: base.best.rps > 0 ? subject.best.rps / base.best.rps : 0,
      detail: `${fmtRps(subject.best.rps)} req/s (c=${subject.best.connections}) vs ${fmtRps(base.best.rps)} req/s (c=${base.best.connections})${statuses(subject)}${statuses(base)}`,
    }),
  },
];

/**
 * The issue-13 targets whose scenarios are part of the run. A target whose scenario could not be
 * measured fails, saying why; one whose scenarios were left out (BENCH_SCENARIOS) is not reported.
 */
export function evaluateBatchTargets(scenarios: readonly ScenarioResult[], unavailable: readonly UnavailableScenario[]): TargetResult[] {
  const targets: TargetResult[] = [];
  for (const c of COMPARISONS) {
    const subject = scenarios.find((s) => s.id === c.subject);
    const base = scenarios.find((s) => s.id === c.base);
    const missing = [c.subject, c.base].map((id) => unavailable.find((u) => u.id === id)).filter((u) => u !== undefined);
    const common = { id: c.id, description: c.description, threshold: c.threshold, comparison: c.comparison, unit: '×' } as const;
    if (subject && base) {
      const { value, detail } = c.measure(subject, base);
      targets.push({ ...common, value, detail, pass: c.comparison === '>=' ? value >= c.threshold : value <= c.threshold });
    } else if (missing.length > 0 && (subject || base || missing.length === 2)) {
      targets.push({ ...common, value: 0, pass: false, detail: `not measured: ${missing.map((u) => `${u.id} (${u.reason})`).join('; ')}` });
    }
  }
  return targets;
}

const HOST_LABEL = { service: 'pqseal', 'service-unbatched': 'pqseal, PQSEAL_SEAL_BATCH_MAX=1', reference: 'reference process' } as const;

/** The side-by-side table of the issue-13 scenarios and their targets ('' when none was part of the run). */
export function renderBatchMarkdown(
  scenarios: readonly ScenarioResult[],
  targets: readonly TargetResult[],
  unavailable: readonly UnavailableScenario[],
): string {
  const ids: readonly string[] = Object.values(BATCH_SCENARIOS);
  const rows = ids.flatMap((id) => scenarios.filter((s) => s.id === id));
  const own = targets.filter((t) => t.id.startsWith('issue13-'));
  if (rows.length === 0 && own.length === 0) return '';
  const c16 = BATCH_TARGETS.singleConnections;
  const out = [
    '## Batch signatures (issue 13)',
    '',
    `| Scenario | process | best c | req/s | items/s | p50 ms | p99 ms | req/s at c=${c16} | p99 ms at c=${c16} |`,
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const esc = (text: string) => text.replace(/\|/g, '\\|');
  // Latency of successful responses only: none, none to show.
  const ms = (p: Point | undefined, q: 'p50' | 'p99') => (p && p.ok > 0 ? fmtMs(p.latency[q]) : 'n/a');
  for (const s of rows) {
    const best = bestPoint(s);
    const at = s.points.find((p) => p.connections === c16);
    out.push(
      `| ${s.label} | ${HOST_LABEL[s.host ?? 'service']} | ${s.best.connections} | ${fmtRps(s.best.rps)} | ${fmtRps(itemsPerSecond(s))} | ${ms(best, 'p50')} | ${ms(best, 'p99')} | ${at ? fmtRps(at.rps) : '—'} | ${at ? ms(at, 'p99') : '—'} |`,
    );
  }
  for (const u of unavailable.filter((x) => ids.includes(x.id))) out.push(`| ${u.label} | not measured: ${esc(u.reason)} | | | | | | | |`);
  out.push('');
  for (const t of own)
    out.push(
      `- **${t.id}** ${t.pass ? 'PASS' : 'FAIL'} (${Number.isFinite(t.value) ? t.value.toFixed(2) : 'n/a'}× ${t.comparison} ${t.threshold}×) — ${t.description}: ${t.detail}`,
    );
  for (const s of rows.filter((x) => x.note)) out.push(`- ${s.id}: ${s.note}`);
  return `${out.join('\n')}\n`;
}

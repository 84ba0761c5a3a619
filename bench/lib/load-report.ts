/**
 * The load benchmark's report: its JSON shape, the knee and best point of each scenario, the target
 * evaluation (ratios from the same run), and the console and Markdown renderings.
 */
import type { LatencySummary, PointMeasurement } from './load-run.js';
import type { PrimitiveThroughput } from './load-primitives.js';
import type { RssSample } from './load-server.js';
import type { ThreadProfile } from './load-profile.js';

export const LOAD_REPORT_SCHEMA = 'pqseal-bench-load/1';
const MiB = 1024 * 1024;

/** `reference`: the per-request reference process (bench/reference/), not pqseal. */
export type ScenarioKind = 'ceiling' | 'managed' | 'direct' | 'reference';

/**
 * The process a scenario runs against: the service with its defaults (batching on), the service with
 * PQSEAL_SEAL_BATCH_MAX=1 (one signature and one encapsulation per envelope: the pre-batching
 * behaviour), or the per-request reference.
 */
export type ScenarioHost = 'service' | 'service-unbatched' | 'reference';

export interface ScenarioInfo {
  readonly id: string;
  readonly label: string;
  readonly kind: ScenarioKind;
  readonly method: 'POST';
  readonly path: string;
  readonly payloadBytes: number;
  /** Items per request of a `batch_input` call (absent: one); items/s = 2xx req/s × this. */
  readonly itemsPerRequest?: number;
  /** Absent in old reports: the service. */
  readonly host?: ScenarioHost;
}

/** A scenario that could not be measured in this run (e.g. a server feature it needs is missing). */
export interface UnavailableScenario {
  readonly id: string;
  readonly label: string;
  readonly reason: string;
}

export interface Point extends PointMeasurement {
  /** Server event-loop delay over the point, ms beyond the histogram's resolution. */
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
  /** Peak of the server's RSS sampled every 250 ms during the point. */
  readonly peakRssBytes: number;
  /** Server CPU seconds per wall second (all threads; 2.0 = two cores busy). */
  readonly serverCpu: number;
  /** The server's main thread (event loop) alone, CPU seconds per wall second. */
  readonly mainThreadCpu: number;
  /**
   * Server CPU seconds per wall second by thread role: the event loop, the crypto workers, the audit
   * writer thread, and the rest (V8's GC and compiler threads, libuv's pool). Absent in old reports.
   */
  readonly threadCpu?: { readonly main: number; readonly crypto: number; readonly audit: number; readonly rest: number };
  /** CPU seconds per wall second used by everything else on the machine during the point (noise). */
  readonly otherCpu: number;
  /** Measurements taken of this point (more than one when other processes were busy during it). */
  readonly attempts: number;
}

export interface ScenarioResult extends ScenarioInfo {
  readonly points: readonly Point[];
  /** The concurrency with the highest throughput. */
  readonly best: { readonly connections: number; readonly rps: number };
  /** The smallest concurrency reaching KNEE_FRACTION of the best throughput: past it, concurrency only adds queueing. */
  readonly knee: { readonly connections: number; readonly rps: number };
  /** What a check of one request before the points found, when it found something wrong. */
  readonly note?: string;
}

export interface SustainResult {
  readonly scenario: string;
  readonly connections: number;
  readonly seconds: number;
  readonly rps: number;
  readonly latency: LatencySummary;
  readonly non2xx: number;
  readonly errors: number;
  readonly eventLoopDelayP99Ms: number;
  readonly rssFirstQuarterBytes: number;
  readonly rssLastQuarterBytes: number;
  readonly rssGrowthPct: number;
  readonly heapUsedStartBytes: number;
  readonly heapUsedEndBytes: number;
  readonly samples: readonly RssSample[];
}

export interface BackpressureResult {
  readonly scenario: string;
  readonly maxQueue: number;
  readonly workers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly statusCounts: Record<string, number>;
  readonly okRps: number;
  readonly okLatency: LatencySummary;
  readonly refused: number;
  readonly refusedRps: number;
  readonly refusedLatency: LatencySummary;
  readonly withRetryAfter: number;
  readonly errors: number;
  readonly eventLoopDelayP99Ms: number;
  readonly peakRssBytes: number;
}

export interface ProfileResult {
  readonly scenario: string;
  readonly connections: number;
  readonly seconds: number;
  readonly rps: number;
  readonly threads: readonly ThreadProfile[];
}

export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly value: number;
  readonly threshold: number;
  /** How value compares with threshold to pass. */
  readonly comparison: '>=' | '<=';
  readonly unit: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface LoadSettings {
  readonly durationSeconds: number;
  readonly concurrencies: readonly number[];
  readonly warmupSeconds: number;
  readonly sustainSeconds: number;
  readonly primitiveSeconds: number;
  readonly backpressureSeconds: number;
  readonly backpressureQueue: number;
  readonly backpressureConnections: number;
  readonly profile: boolean;
  readonly profileSeconds: number;
  /** CPU (in cores) other processes may use during a point before it is measured again. */
  readonly noiseLimit: number;
  readonly noiseMaxWaitSeconds: number;
  readonly noiseAttempts: number;
  readonly noiseBudgetSeconds: number;
  readonly workers: number;
  readonly defaultMaxQueue: number;
  readonly quick: boolean;
  readonly smoke: boolean;
  readonly strict: boolean;
  readonly outDir: string;
  readonly scenarios: readonly string[] | undefined;
  /** --issue13: only the batch-signature scenarios and targets (no sustained run, backpressure or profiles). */
  readonly issue13: boolean;
  /** Distinct envelopes each decrypt-verify-of-many scenario cycles through. */
  readonly envelopes: number;
}

export interface LoadReport {
  readonly schema: typeof LOAD_REPORT_SCHEMA;
  readonly date: string;
  readonly generatedAt: string;
  readonly machine: { node: string; platform: string; arch: string; cpuModel: string; cores: number; loadAverageAtStart: readonly number[] };
  readonly settings: Omit<LoadSettings, 'outDir'>;
  readonly totalSeconds: number;
  readonly primitives: readonly PrimitiveThroughput[];
  readonly scenarios: readonly ScenarioResult[];
  /** Scenarios of the run that could not be measured, and why (absent in old reports). */
  readonly unavailable?: readonly UnavailableScenario[];
  readonly sustain: SustainResult | undefined;
  readonly backpressure: BackpressureResult | undefined;
  readonly peakRss: { readonly sampledBytes: number; readonly highWaterBytes: number };
  readonly profiles: readonly ProfileResult[];
  readonly targets: readonly TargetResult[];
  readonly allTargetsPass: boolean;
}

export const KNEE_FRACTION = 0.95;
export const TARGETS = {
  overheadRatio: 0.85,
  managedExtraCost: 0.1,
  p99OverP50: 4,
  eventLoopDelayMs: 20,
  peakRssBytes: 512 * MiB,
  rssGrowth: 0.1,
} as const;

export function bestAndKnee(points: readonly Point[]): Pick<ScenarioResult, 'best' | 'knee'> {
  let best = points[0] as Point;
  for (const p of points) if (p.rps > best.rps) best = p;
  const knee = [...points].sort((a, b) => a.connections - b.connections).find((p) => p.rps >= KNEE_FRACTION * best.rps) ?? best;
  return { best: { connections: best.connections, rps: best.rps }, knee: { connections: knee.connections, rps: knee.rps } };
}

function pointAt(s: ScenarioResult, connections: number): Point | undefined {
  return s.points.find((p) => p.connections === connections);
}

function ratioTarget(
  id: string,
  subject: ScenarioResult | undefined,
  ceiling: ScenarioResult | undefined,
  bare: ScenarioResult | undefined,
): TargetResult | undefined {
  if (!subject || !ceiling || !bare) return undefined;
  const floor = Math.min(ceiling.best.rps, bare.best.rps);
  const limiter = ceiling.best.rps <= bare.best.rps ? ceiling : bare;
  const value = floor > 0 ? subject.best.rps / floor : 0;
  return {
    id,
    description: `${subject.label} ≥ ${TARGETS.overheadRatio * 100}% of min(bare, ${ceiling.label}) at the best concurrency`,
    value,
    threshold: TARGETS.overheadRatio,
    comparison: '>=',
    unit: 'ratio',
    pass: value >= TARGETS.overheadRatio,
    detail: `${fmtRps(subject.best.rps)} req/s (c=${subject.best.connections}) / ${fmtRps(floor)} req/s (${limiter.label}, c=${limiter.best.connections})`,
  };
}

export function evaluateTargets(
  scenarios: readonly ScenarioResult[],
  sustain: SustainResult | undefined,
  peakRss: LoadReport['peakRss'],
  backpressure: BackpressureResult | undefined,
): TargetResult[] {
  const by = (id: string) => scenarios.find((s) => s.id === id);
  const bare = by('bare');
  const targets: (TargetResult | undefined)[] = [
    ratioTarget('managed-sign-encrypt-vs-ceiling', by('managed-sign-encrypt-1k'), by('crypto-seal'), bare),
    ratioTarget('managed-decrypt-verify-vs-ceiling', by('managed-decrypt-verify-1k'), by('crypto-open'), bare),
    ratioTarget('direct-sign-encrypt-vs-ceiling', by('direct-sign-encrypt-1k'), by('crypto-seal'), bare),
  ];

  const managed = by('managed-sign-encrypt-1k');
  const direct = by('direct-sign-encrypt-1k');
  if (managed && direct && managed.best.rps > 0) {
    // Cost per request is the inverse of the throughput at each path's best concurrency.
    const extra = direct.best.rps / managed.best.rps - 1;
    targets.push({
      id: 'managed-vs-direct-cost',
      description: `Managed sign-encrypt costs ≤ ${TARGETS.managedExtraCost * 100}% more per request than Direct (login cached)`,
      value: extra,
      threshold: TARGETS.managedExtraCost,
      comparison: '<=',
      unit: 'extra cost',
      pass: extra <= TARGETS.managedExtraCost,
      detail: `${fmtMs(1000 / managed.best.rps)} ms vs ${fmtMs(1000 / direct.best.rps)} ms of service time per request (${fmtRps(managed.best.rps)} vs ${fmtRps(direct.best.rps)} req/s)`,
    });
  }

  const service = scenarios.filter((s) => s.kind !== 'ceiling' && s.kind !== 'reference');
  if (service.length > 0) {
    const ratios = service.map((s) => {
      const p = pointAt(s, s.best.connections) as Point;
      return { s, p, ratio: p.latency.p50 > 0 ? p.latency.p99 / p.latency.p50 : Number.POSITIVE_INFINITY };
    });
    const worst = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    targets.push({
      id: 'p99-over-p50',
      description: `p99 ≤ ${TARGETS.p99OverP50}× p50 at the best-throughput concurrency (every pqseal scenario)`,
      value: worst.ratio,
      threshold: TARGETS.p99OverP50,
      comparison: '<=',
      unit: '×',
      pass: ratios.every((r) => r.ratio <= TARGETS.p99OverP50),
      detail: ratios.map((r) => `${r.s.id} c=${r.p.connections}: ${fmtMs(r.p.latency.p99)}/${fmtMs(r.p.latency.p50)} ms = ${r.ratio.toFixed(2)}×`).join('; '),
    });

    const all = service.flatMap((s) => s.points.map((p) => ({ s, p })));
    const worstEld = all.reduce((a, b) => (b.p.eventLoopDelayP99Ms > a.p.eventLoopDelayP99Ms ? b : a));
    const over = all.filter((x) => x.p.eventLoopDelayP99Ms > TARGETS.eventLoopDelayMs);
    targets.push({
      id: 'event-loop-delay',
      description: `Event-loop delay p99 ≤ ${TARGETS.eventLoopDelayMs} ms at every load point of every pqseal scenario`,
      value: worstEld.p.eventLoopDelayP99Ms,
      threshold: TARGETS.eventLoopDelayMs,
      comparison: '<=',
      unit: 'ms',
      pass: over.length === 0,
      detail:
        `worst: ${worstEld.s.id} c=${worstEld.p.connections}` +
        (over.length ? `; over the limit: ${over.map((x) => `${x.s.id} c=${x.p.connections} (${fmtMs(x.p.eventLoopDelayP99Ms)} ms)`).join(', ')}` : ''),
    });
  }

  const belowKnee = scenarios.flatMap((s) => s.points.filter((p) => p.connections <= s.knee.connections).map((p) => ({ s, p })));
  const failing = belowKnee.filter((x) => x.p.non2xx + x.p.errors > 0);
  const allPoints = scenarios.flatMap((s) => s.points);
  targets.push({
    id: 'no-errors-below-knee',
    description: "Zero non-2xx responses and connection errors at or below each scenario's knee",
    value: failing.reduce((n, x) => n + x.p.non2xx + x.p.errors, 0),
    threshold: 0,
    comparison: '<=',
    unit: 'responses',
    pass: failing.length === 0,
    detail:
      (failing.length ? failing.map((x) => `${x.s.id} c=${x.p.connections}: ${x.p.non2xx} non-2xx, ${x.p.errors} errors`).join('; ') : 'none') +
      `; above the knees: ${allPoints.reduce((n, p) => n + p.non2xx, 0) - belowKnee.reduce((n, x) => n + x.p.non2xx, 0)} non-2xx`,
  });

  const peak = Math.max(peakRss.sampledBytes, peakRss.highWaterBytes);
  targets.push({
    id: 'peak-rss',
    description: `Peak server RSS over the whole benchmark ≤ ${TARGETS.peakRssBytes / MiB} MiB`,
    value: peak / MiB,
    threshold: TARGETS.peakRssBytes / MiB,
    comparison: '<=',
    unit: 'MiB',
    pass: peak <= TARGETS.peakRssBytes,
    detail: `sampled every 250 ms: ${fmtMiB(peakRss.sampledBytes)} MiB; kernel high-water mark (VmHWM): ${fmtMiB(peakRss.highWaterBytes)} MiB`,
  });

  if (sustain) {
    targets.push({
      id: 'sustained-rss-growth',
      description: `No RSS growth over the sustained run: last-quarter median ≤ first-quarter median + ${TARGETS.rssGrowth * 100}%`,
      value: sustain.rssGrowthPct / 100,
      threshold: TARGETS.rssGrowth,
      comparison: '<=',
      unit: 'growth',
      pass: sustain.rssGrowthPct / 100 <= TARGETS.rssGrowth,
      detail: `${sustain.scenario} c=${sustain.connections} for ${sustain.seconds.toFixed(0)} s at ${fmtRps(sustain.rps)} req/s: ${fmtMiB(sustain.rssFirstQuarterBytes)} → ${fmtMiB(sustain.rssLastQuarterBytes)} MiB (heap used ${fmtMiB(sustain.heapUsedStartBytes)} → ${fmtMiB(sustain.heapUsedEndBytes)} MiB); ${sustain.non2xx} non-2xx`,
    });
  }

  if (backpressure) {
    // "Fast" means: a refused client hears back before a client queued at the same concurrency with
    // the default queue limit is typically served (the same scenario's p50 in the main run); without
    // that point, before this run's own served requests.
    const queued = by(backpressure.scenario)?.points.find((p) => p.connections === backpressure.connections);
    const reference = queued ? queued.latency.p50 : backpressure.okLatency.p50;
    const referenceLabel = queued ? `queued p50 at c=${backpressure.connections} with the default queue` : '2xx p50 of the same run';
    const fast = backpressure.refused > 0 && backpressure.refusedLatency.p99 <= reference;
    const allRetry = backpressure.refused > 0 && backpressure.withRetryAfter === backpressure.refused;
    const only503 = Object.keys(backpressure.statusCounts).every((code) => code === '200' || code === '503');
    targets.push({
      id: 'backpressure-503',
      description: `Over the pool's queue limit: 503 + Retry-After on every refusal, 503 p99 ≤ ${referenceLabel}`,
      value: backpressure.refusedLatency.p99,
      threshold: reference,
      comparison: '<=',
      unit: 'ms',
      pass: fast && allRetry && only503 && backpressure.errors === 0,
      detail:
        `PQSEAL_MAX_QUEUE=${backpressure.maxQueue}, ${backpressure.workers} workers, c=${backpressure.connections}: ${backpressure.refused} × 503 (${backpressure.withRetryAfter} with Retry-After), ` +
        `503 p50/p99 ${fmtMs(backpressure.refusedLatency.p50)}/${fmtMs(backpressure.refusedLatency.p99)} ms; served 2xx p50/p99 ${fmtMs(backpressure.okLatency.p50)}/${fmtMs(backpressure.okLatency.p99)} ms` +
        (queued ? `; queued instead (main run, c=${queued.connections}): p50/p99 ${fmtMs(queued.latency.p50)}/${fmtMs(queued.latency.p99)} ms` : '') +
        `; statuses ${JSON.stringify(backpressure.statusCounts)}, ${backpressure.errors} errors`,
    });
  }
  return targets.filter((t): t is TargetResult => t !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Rendering

export function fmtRps(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

export function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function fmtMiB(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / MiB).toFixed(0) : 'n/a';
}

export function fmtPayload(bytes: number): string {
  if (bytes >= MiB) return `${bytes / MiB} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function fmtTargetValue(t: TargetResult): string {
  switch (t.unit) {
    case 'ratio':
      return `${(t.value * 100).toFixed(1)}%`;
    case 'extra cost':
    case 'growth':
      return `${t.value >= 0 ? '+' : ''}${(t.value * 100).toFixed(1)}%`;
    case '×':
      return `${t.value.toFixed(2)}×`;
    case 'ms':
      return `${fmtMs(t.value)} ms`;
    case 'MiB':
      return `${t.value.toFixed(0)} MiB`;
    default:
      return `${t.value}`;
  }
}

function fmtThreshold(t: TargetResult): string {
  switch (t.unit) {
    case 'ratio':
    case 'extra cost':
    case 'growth':
      return `${t.comparison} ${(t.threshold * 100).toFixed(0)}%`;
    case '×':
      return `${t.comparison} ${t.threshold}×`;
    case 'ms':
      return `${t.comparison} ${fmtMs(t.threshold)} ms`;
    case 'MiB':
      return `${t.comparison} ${t.threshold} MiB`;
    default:
      return `${t.comparison} ${t.threshold}`;
  }
}

const COLUMNS = [
  'Scenario',
  'c',
  'req/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'non-2xx',
  'errors',
  'ELD p99 ms',
  'peak RSS MiB',
  'server CPU',
  'loadgen CPU',
  'other CPU',
] as const;

function pointRow(s: ScenarioResult, p: Point, first: boolean): string[] {
  const marks = [p.connections === s.best.connections ? 'best' : '', p.connections === s.knee.connections ? 'knee' : ''].filter(Boolean).join(',');
  return [
    first ? s.label : '',
    `${p.connections}${marks ? ` (${marks})` : ''}`,
    fmtRps(p.rps),
    fmtMs(p.latency.p50),
    fmtMs(p.latency.p90),
    fmtMs(p.latency.p99),
    String(p.non2xx),
    String(p.errors),
    fmtMs(p.eventLoopDelayP99Ms),
    fmtMiB(p.peakRssBytes),
    `${(p.serverCpu * 100).toFixed(0)}%`,
    `${(p.loadGenCpu * 100).toFixed(0)}%`,
    Number.isFinite(p.otherCpu) ? `${(p.otherCpu * 100).toFixed(0)}%` : 'n/a',
  ];
}

function textTable(header: readonly string[], rows: readonly (readonly string[])[], rightAlignFrom = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[], rightAlignFrom = 1): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map((_, i) => (i >= rightAlignFrom ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function mainRows(r: LoadReport): string[][] {
  return r.scenarios.flatMap((s) => s.points.map((p, i) => pointRow(s, p, i === 0)));
}

function primitiveRows(r: LoadReport): string[][] {
  return r.primitives.map((p) => [
    p.op,
    p.work,
    String(p.threads),
    fmtRps(p.poolOpsPerSec),
    fmtRps(p.singleThreadOpsPerSec),
    fmtRps(p.idealOpsPerSec),
    `${(p.poolOpsPerSec / p.singleThreadOpsPerSec).toFixed(2)}×`,
  ]);
}
const PRIMITIVE_HEADER = ['Ceiling op', 'Work', 'threads', 'pool ops/s', '1 thread ops/s', '× threads', 'pool speed-up'];

function summaryRows(r: LoadReport): string[][] {
  const by = (id: string) => r.scenarios.find((s) => s.id === id);
  const ceilingFor = (s: ScenarioResult): ScenarioResult | undefined => {
    if (s.kind === 'ceiling' || s.id === 'managed-encrypt-1k') return undefined; // encrypt does not sign: no like-for-like ceiling
    if (s.kind === 'reference' || s.itemsPerRequest) return undefined; // compared in the issue-13 section instead
    return /decrypt/.test(s.id) ? by('crypto-open') : by('crypto-seal');
  };
  const bare = by('bare');
  return r.scenarios.map((s) => {
    const c = ceilingFor(s);
    const floor = c && bare ? Math.min(c.best.rps, bare.best.rps) : Number.NaN;
    const best = pointAt(s, s.best.connections) as Point;
    return [
      s.label,
      fmtPayload(s.payloadBytes),
      fmtRps(s.best.rps),
      String(s.best.connections),
      String(s.knee.connections),
      fmtMs(best.latency.p50),
      fmtMs(best.latency.p99),
      Number.isFinite(floor) ? `${((100 * s.best.rps) / floor).toFixed(1)}%` : '—',
      `${(best.serverCpu * 100).toFixed(0)}%`,
      best.rps > 0 ? fmtMs((1000 * best.serverCpu) / best.rps) : 'n/a',
      best.rps > 0 && Number.isFinite(best.mainThreadCpu) ? fmtMs((1000 * best.mainThreadCpu) / best.rps) : 'n/a',
    ];
  });
}
const SUMMARY_HEADER = [
  'Scenario',
  'payload',
  'best req/s',
  'at c',
  'knee c',
  'p50 ms',
  'p99 ms',
  'of ceiling',
  'server CPU',
  'CPU ms/req',
  'main-thread ms/req',
];

/** Where each request's CPU goes, by thread role, at each scenario's best point (ms per successful request). */
function threadRows(r: LoadReport): string[][] {
  return r.scenarios.flatMap((s) => {
    const best = pointAt(s, s.best.connections);
    const t = best?.threadCpu;
    if (!best || !t || best.rps <= 0) return [];
    const ms = (cpu: number) => (Number.isFinite(cpu) ? fmtMs((1000 * cpu) / best.rps) : 'n/a');
    return [[s.label, String(best.connections), ms(t.main), ms(t.crypto), ms(t.audit), ms(t.rest), ms(best.serverCpu)]];
  });
}
const THREAD_HEADER = ['Scenario', 'c', 'event loop', 'crypto workers', 'audit writer', 'rest (GC, libuv)', 'total'];

function targetRows(r: LoadReport): string[][] {
  return r.targets.map((t) => [t.id, fmtTargetValue(t), fmtThreshold(t), t.pass ? 'PASS' : 'FAIL']);
}

export function renderConsole(r: LoadReport): string {
  const out: string[] = [];
  out.push(`pqseal load benchmark ${r.date} — node ${r.machine.node}, ${r.machine.cpuModel}, ${r.machine.cores} cores, ${r.settings.workers} crypto workers`);
  out.push(`${r.settings.durationSeconds} s per point, concurrencies ${r.settings.concurrencies.join(', ')}; load generator and server on the same cores`, '');
  out.push('Raw primitive throughput, no HTTP:', textTable(PRIMITIVE_HEADER, primitiveRows(r), 2), '');
  out.push(textTable(COLUMNS, mainRows(r)), '');
  out.push(textTable(SUMMARY_HEADER, summaryRows(r)), '');
  if (threadRows(r).length) out.push('Server CPU per request by thread, ms (best point):', textTable(THREAD_HEADER, threadRows(r)), '');
  if (r.sustain) {
    const s = r.sustain;
    out.push(
      `Sustained: ${s.scenario} c=${s.connections} for ${s.seconds.toFixed(0)} s: ${fmtRps(s.rps)} req/s, p50/p99 ${fmtMs(s.latency.p50)}/${fmtMs(s.latency.p99)} ms, RSS ${fmtMiB(s.rssFirstQuarterBytes)} → ${fmtMiB(s.rssLastQuarterBytes)} MiB (${s.rssGrowthPct.toFixed(1)}%)`,
    );
  }
  if (r.backpressure) {
    const b = r.backpressure;
    out.push(
      `Backpressure: ${b.scenario}, PQSEAL_MAX_QUEUE=${b.maxQueue}, c=${b.connections}: ${fmtRps(b.okRps)} req/s served, ${fmtRps(b.refusedRps)} req/s refused (${b.refused} × 503, ${b.withRetryAfter} with Retry-After); ` +
        `503 p50/p99 ${fmtMs(b.refusedLatency.p50)}/${fmtMs(b.refusedLatency.p99)} ms, 2xx p50/p99 ${fmtMs(b.okLatency.p50)}/${fmtMs(b.okLatency.p99)} ms`,
    );
  }
  out.push(`Peak RSS: ${fmtMiB(Math.max(r.peakRss.sampledBytes, r.peakRss.highWaterBytes))} MiB`, '');
  for (const p of r.profiles) {
    out.push(`Profile ${p.scenario} c=${p.connections} (${fmtRps(p.rps)} req/s):`);
    for (const t of p.threads) {
      const top = t.top
        .slice(0, 5)
        .map((f) => `${f.name} ${f.selfPct.toFixed(1)}%`)
        .join(', ');
      out.push(`  ${t.thread}: ${((100 * t.busyMs) / Math.max(1, t.wallMs)).toFixed(0)}% busy; ${top}`);
    }
  }
  if (r.profiles.length) out.push('');
  if (r.unavailable?.length) out.push(`Not measured: ${r.unavailable.map((u) => `${u.id} (${u.reason})`).join('; ')}`, '');
  out.push('Targets (ratios from this run):');
  for (const t of r.targets) out.push(`  ${t.id.padEnd(34)} ${fmtTargetValue(t).padStart(10)}  ${fmtThreshold(t).padEnd(10)}  ${t.pass ? 'PASS' : 'FAIL'}`);
  return `${out.join('\n')}\n`;
}

/** `sections`: Markdown placed after the targets (e.g. the issue-13 comparison, bench/lib/load-batch.ts). */
export function renderMarkdown(r: LoadReport, chartFile: string, profileMarkdown: string, sections = ''): string {
  const s = r.settings;
  const out: string[] = [];
  out.push(`# pqseal load benchmark, ${r.date}`, '');
  out.push(
    `Generated by \`npm run bench\`${s.quick ? ' --quick' : ''}${s.smoke ? ' --smoke' : ''} at ${r.generatedAt} in ${(r.totalSeconds / 60).toFixed(1)} min. ` +
      `node ${r.machine.node} (${r.machine.platform}/${r.machine.arch}), ${r.machine.cpuModel}, ${r.machine.cores} cores shared by the server (main thread + ${s.workers} crypto workers) and the load generator (autocannon, one process); ` +
      `load average ${r.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')} at start. ${s.durationSeconds} s per point after a ${s.warmupSeconds} s warm-up per scenario, 1 KiB payloads unless stated.`,
    '',
  );
  out.push(`![Throughput vs concurrency](${chartFile})`, '');
  out.push('## Targets', '', mdTable(['Target', 'Measured', 'Required', 'Result'], targetRows(r)), '');
  for (const t of r.targets) out.push(`- **${t.id}** — ${t.description}: ${t.detail}`);
  if (r.unavailable?.length) out.push('', `Not measured in this run: ${r.unavailable.map((u) => `${u.id} (${u.reason})`).join('; ')}.`);
  if (sections) out.push('', sections.trimEnd());
  out.push('', '## Summary (best concurrency per scenario)', '', mdTable(SUMMARY_HEADER, summaryRows(r)), '');
  out.push(
    '"of ceiling" is the best throughput over min(bare route, crypto-ceiling route of the same operation); knee = smallest concurrency reaching 95% of the best throughput; CPU ms/req = server CPU time (all threads) per successful request at the best point; main-thread ms/req = the part of it spent on the event-loop thread (read from /proc per thread — steadier than throughput on a shared machine).',
    '',
  );
  if (threadRows(r).length) {
    out.push(
      '## Server CPU per request, by thread',
      '',
      mdTable(THREAD_HEADER, threadRows(r)),
      '',
      "CPU time per successful request at the best point, from /proc per thread: the event loop (main thread), the crypto worker pool, the audit writer thread, and the rest of the process (V8's garbage-collector and compiler threads, libuv's thread pool). On a machine whose cores are all busy, every millisecond outside the crypto workers is taken from them.",
      '',
    );
  }
  out.push(
    '## Raw primitive throughput (no HTTP)',
    '',
    mdTable(PRIMITIVE_HEADER, primitiveRows(r), 2),
    '',
    '"pool" = the server\'s CryptoPool in the benchmark process, saturated with ceiling tasks; "1 thread" = the same work in a loop on one thread; the speed-up is pool / 1 thread: how much of the extra cores the crypto actually gets on this machine.',
    '',
  );
  out.push('## Every point', '', mdTable(COLUMNS, mainRows(r)), '');
  const noisy = r.scenarios.flatMap((x) =>
    x.points.filter((p) => p.otherCpu > s.noiseLimit).map((p) => `${x.id} c=${p.connections} (${(p.otherCpu * 100).toFixed(0)}%)`),
  );
  const refusedPoints = r.scenarios.flatMap((x) =>
    x.points
      .filter((p) => p.non2xx > 0)
      .map(
        (p) =>
          `${x.id} c=${p.connections}: ${Object.entries(p.statusCounts)
            .filter(([c]) => !c.startsWith('2'))
            .map(([c, n]) => `${n} × ${c}`)
            .join(', ')}`,
      ),
  );
  if (refusedPoints.length) out.push(`Non-2xx responses: ${refusedPoints.join('; ')}.`, '');
  const stalledPoints = r.scenarios.flatMap((x) =>
    x.points.filter((p) => p.stalledConnections > 0).map((p) => `${x.id} c=${p.connections} (${p.stalledConnections})`),
  );
  if (stalledPoints.length)
    out.push(`Connections whose last request was never answered (the point's throughput is then too low): ${stalledPoints.join(', ')}.`, '');
  out.push(
    noisy.length
      ? `Points during which other processes on the machine used more than ${(s.noiseLimit * 100).toFixed(0)}% of a core even after a second measurement (less trustworthy): ${noisy.join(', ')}.`
      : 'No point was disturbed by other processes beyond the noise limit.',
    '',
  );
  out.push(
    'ELD = the server\'s event-loop delay (perf_hooks.monitorEventLoopDelay, beyond its 10 ms resolution); peak RSS sampled every 250 ms from /proc; CPU = CPU seconds per wall second (2 cores = 200%): server (all its threads), load generator, and other processes on the machine (noise; a point with much "other CPU" is less trustworthy).',
    '',
  );
  if (r.sustain) {
    const x = r.sustain;
    out.push(
      '## Sustained run',
      '',
      `${x.scenario} at its best concurrency c=${x.connections}, on a fresh server after a warm-up, for ${x.seconds.toFixed(0)} s: ${fmtRps(x.rps)} req/s, p50/p90/p99 ${fmtMs(x.latency.p50)}/${fmtMs(x.latency.p90)}/${fmtMs(x.latency.p99)} ms, ${x.non2xx} non-2xx, ${x.errors} errors, event-loop delay p99 ${fmtMs(x.eventLoopDelayP99Ms)} ms. ` +
        `RSS median first quarter ${fmtMiB(x.rssFirstQuarterBytes)} MiB, last quarter ${fmtMiB(x.rssLastQuarterBytes)} MiB (${x.rssGrowthPct >= 0 ? '+' : ''}${x.rssGrowthPct.toFixed(1)}%); heap used ${fmtMiB(x.heapUsedStartBytes)} → ${fmtMiB(x.heapUsedEndBytes)} MiB.`,
      '',
    );
  }
  if (r.backpressure) {
    const b = r.backpressure;
    out.push(
      '## Backpressure',
      '',
      `A separate server with PQSEAL_MAX_QUEUE=${b.maxQueue} and ${b.workers} workers, ${b.scenario} at c=${b.connections} for ${b.seconds} s: ` +
        `${fmtRps(b.okRps)} req/s served (p50/p99 ${fmtMs(b.okLatency.p50)}/${fmtMs(b.okLatency.p99)} ms), ${fmtRps(b.refusedRps)} req/s refused with 503 ` +
        `(p50/p99 ${fmtMs(b.refusedLatency.p50)}/${fmtMs(b.refusedLatency.p99)} ms), ${b.withRetryAfter} of ${b.refused} with Retry-After; statuses ${JSON.stringify(b.statusCounts)}; event-loop delay p99 ${fmtMs(b.eventLoopDelayP99Ms)} ms. ` +
        `With the default PQSEAL_MAX_QUEUE (${s.defaultMaxQueue}) the pool refuses work only above about ${s.defaultMaxQueue + s.workers} requests in flight, beyond every concurrency measured above.`,
      '',
    );
  }
  if (profileMarkdown) out.push('## CPU profiles (server under load, `node --cpu-prof`)', '', profileMarkdown, '');
  return `${out.join('\n')}\n`;
}

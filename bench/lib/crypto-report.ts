import type { RoundResult } from './crypto-measure.js';

/** Result shapes of `bench/crypto.ts` (the JSON file) and their text / markdown renderings. */

export const REPORT_SCHEMA = 'pqseal-bench-crypto/1';

export interface Figures {
  /** Median over rounds of the mean time per operation, in microseconds. */
  readonly meanUs: number;
  readonly opsPerSec: number;
  readonly totalOps: number;
  readonly totalSeconds: number;
  readonly rounds: readonly RoundResult[];
}

export interface PrimitiveResult extends Figures {
  readonly id: string;
  readonly primitive: string;
  readonly operation: string;
  readonly impl: string;
  /** Full implementation description (composite / X-Wing name their parts). */
  readonly detail: string;
}

export type WholeOperation = 'sign-encrypt' | 'encrypt' | 'decrypt' | 'decrypt-verify';

export interface OperationResult extends Figures {
  readonly id: string;
  readonly operation: WholeOperation;
  readonly payloadBytes: number;
  readonly providers: string;
  readonly providerDetail: string;
}

export interface WinnerResult {
  readonly primitive: string;
  readonly operation: string;
  readonly winner: string;
  readonly runnerUp: string | null;
  /** winner ops/s ÷ runner-up ops/s (1 when there is only one implementation). */
  readonly speedup: number;
}

export interface TargetResult {
  readonly id: string;
  readonly description: string;
  /** How `value` is computed from mean times per operation (t_x). */
  readonly formula: string;
  readonly comparison: '>=' | '<=';
  readonly threshold: number;
  /** Median of the per-round values. */
  readonly value: number;
  readonly perRound: readonly number[];
  readonly pass: boolean;
  /** Median mean µs/op of each measured term. */
  readonly terms: Readonly<Record<string, number>>;
  /** Whole-operation time not explained by the primitive terms (µs), median over rounds. */
  readonly extraUs: number;
}

export interface OverheadResult {
  /** Envelope bytes minus plaintext bytes, empty permission list. */
  readonly unsignedBytes: number;
  readonly signedBytes: number;
  readonly signerNameBytes: number;
  readonly orgIdLength: number;
  readonly keyIdLength: number;
  readonly headerBytes: number;
  /** base64url characters minus plaintext bytes for a 1 KiB payload (the string the API returns). */
  readonly unsignedChars1KiB: number;
  readonly signedChars1KiB: number;
}

export interface BenchReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly date: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly environment: {
    readonly node: string;
    readonly v8: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpu: string;
    readonly cores: number;
    readonly loadAverageStart: readonly number[];
    readonly loadAverageEnd: readonly number[];
    readonly packages: Readonly<Record<string, string | null>>;
  };
  readonly settings: {
    readonly secondsPerOp: number;
    readonly ratioRounds: number;
    readonly sliceSeconds: number;
    readonly warmupSeconds: number;
    readonly quick: boolean;
    readonly threads: 1;
  };
  readonly primitives: readonly PrimitiveResult[];
  readonly operations: readonly OperationResult[];
  readonly winners: readonly WinnerResult[];
  readonly targets: readonly TargetResult[];
  readonly overhead: OverheadResult;
  readonly allTargetsPass: boolean;
}

export function formatOps(opsPerSec: number): string {
  const digits = opsPerSec >= 100 ? 0 : opsPerSec >= 10 ? 1 : 2;
  return opsPerSec.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatUs(us: number): string {
  const digits = us >= 1000 ? 0 : us >= 10 ? 1 : 2;
  return us.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function formatPayload(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function formatValue(t: TargetResult): string {
  return t.comparison === '>=' ? `${(t.value * 100).toFixed(1)}%` : `${t.value.toFixed(2)}×`;
}

function formatThreshold(t: TargetResult): string {
  return t.comparison === '>=' ? `≥ ${(t.threshold * 100).toFixed(0)}%` : `≤ ${t.threshold.toFixed(0)}×`;
}

interface Table {
  readonly head: readonly string[];
  /** 'r' right-aligns a column. */
  readonly align: readonly ('l' | 'r')[];
  readonly rows: readonly (readonly string[])[];
}

function isWinner(report: BenchReport, p: PrimitiveResult): boolean {
  return report.winners.some((w) => w.primitive === p.primitive && w.operation === p.operation && w.winner === p.impl && w.runnerUp !== null);
}

function primitivesTable(report: BenchReport): Table {
  return {
    head: ['Primitive', 'Operation', 'Implementation', 'ops/s', 'µs/op', ''],
    align: ['l', 'l', 'l', 'r', 'r', 'l'],
    rows: report.primitives.map((p, i) => {
      const prev = report.primitives[i - 1];
      const sameGroup = prev !== undefined && prev.primitive === p.primitive && prev.operation === p.operation;
      return [
        sameGroup ? '' : p.primitive,
        sameGroup ? '' : p.operation,
        p.impl,
        formatOps(p.opsPerSec),
        formatUs(p.meanUs),
        isWinner(report, p) ? 'fastest' : '',
      ];
    }),
  };
}

function operationsTable(report: BenchReport): Table {
  return {
    head: ['Operation', 'Payload', 'Providers', 'ops/s', 'µs/op', 'MiB/s'],
    align: ['l', 'r', 'l', 'r', 'r', 'r'],
    rows: report.operations.map((o) => [
      o.operation,
      formatPayload(o.payloadBytes),
      o.providers,
      formatOps(o.opsPerSec),
      formatUs(o.meanUs),
      ((o.payloadBytes * o.opsPerSec) / (1 << 20)).toFixed(1),
    ]),
  };
}

function targetsTable(report: BenchReport): Table {
  return {
    head: ['Target', 'Measured', 'Required', 'Per round', 'Extra µs/op', 'Result'],
    align: ['l', 'r', 'r', 'l', 'r', 'l'],
    rows: report.targets.map((t) => [
      t.description,
      formatValue(t),
      formatThreshold(t),
      t.perRound.map((v) => (t.comparison === '>=' ? `${(v * 100).toFixed(1)}%` : `${v.toFixed(2)}×`)).join(' / '),
      formatUs(t.extraUs),
      t.pass ? 'PASS' : 'FAIL',
    ]),
  };
}

function winnersTable(report: BenchReport): Table {
  return {
    head: ['Primitive', 'Operation', 'Fastest', 'Runner-up', 'Speed-up'],
    align: ['l', 'l', 'l', 'l', 'r'],
    rows: report.winners.map((w) => [w.primitive, w.operation, w.winner, w.runnerUp ?? '(only one)', w.runnerUp ? `${w.speedup.toFixed(2)}×` : '']),
  };
}

function renderText(table: Table): string {
  const widths = table.head.map((h, c) => Math.max(h.length, ...table.rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (table.align[c] === 'r' ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number)))
      .join('  ')
      .trimEnd();
  return [line(table.head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

function renderMarkdown(table: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${table.head.map(esc).join(' | ')} |`,
    `| ${table.align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function overheadLines(o: OverheadResult): string[] {
  return [
    `unsigned (encrypt): ${o.unsignedBytes} bytes + payload`,
    `signed (sign-encrypt): ${o.signedBytes} bytes + payload (signer name of ${o.signerNameBytes} bytes)`,
    `header ${o.headerBytes} bytes with org ids of ${o.orgIdLength} characters, key ids of ${o.keyIdLength}, no permissions`,
    `as base64url text, 1 KiB payload: +${o.unsignedChars1KiB} characters unsigned, +${o.signedChars1KiB} signed`,
  ];
}

function settingsLine(r: BenchReport): string {
  const e = r.environment;
  const s = r.settings;
  return (
    `node ${e.node} (${e.platform}/${e.arch}), ${e.cpu}, ${e.cores} cores, single thread; ` +
    `${s.secondsPerOp} s per op per round, ${s.ratioRounds} interleaved rounds for the whole operations and ratios ` +
    `(median), load average ${e.loadAverageStart.map((l) => l.toFixed(2)).join(' ')} at start`
  );
}

export function renderConsole(r: BenchReport): string {
  return [
    `pqseal crypto benchmark ${r.startedAt}`,
    settingsLine(r),
    '',
    'Primitives',
    renderText(primitivesTable(r)),
    '',
    "Whole operations ('fastest' providers)",
    renderText(operationsTable(r)),
    '',
    'Targets (ratios from this run)',
    renderText(targetsTable(r)),
    '',
    'Envelope overhead (empty permissions)',
    ...overheadLines(r.overhead).map((l) => `  ${l}`),
    '',
    'Fastest implementation per primitive',
    renderText(winnersTable(r)),
    '',
    `Targets met: ${r.targets.filter((t) => t.pass).length} of ${r.targets.length}`,
  ].join('\n');
}

export function renderMarkdownReport(r: BenchReport): string {
  return [
    `# pqseal crypto benchmark, ${r.date}`,
    '',
    `Generated by \`npm run bench:crypto\` at ${r.startedAt}. ${settingsLine(r)}.`,
    '',
    '## Primitives',
    '',
    renderMarkdown(primitivesTable(r)),
    '',
    'X-Wing and the composite signature are listed by their post-quantum component; their classical parts (X25519, SHA3-256, Ed25519, SHA-512) are node:crypto in both rows.',
    '',
    "## Whole operations ('fastest' providers)",
    '',
    renderMarkdown(operationsTable(r)),
    '',
    '## Targets',
    '',
    renderMarkdown(targetsTable(r)),
    '',
    ...r.targets.map((t) => `- ${t.description}: \`${t.formula}\``),
    '',
    '## Envelope overhead',
    '',
    ...overheadLines(r.overhead).map((l) => `- ${l}`),
    '',
    '## Fastest implementation per primitive',
    '',
    renderMarkdown(winnersTable(r)),
    '',
  ].join('\n');
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bytesToHex, hexToBytes } from '../../src/crypto/bytes.js';

/**
 * Loader and a small table-driven runner for the vendored published test vectors
 * (test/vectors/README.md): Project Wycheproof files and the X-Wing draft's vectors.
 *
 * The runner checks every vector against one implementation, collects per-vector failures (so
 * one run reports every failing tcId, not just the first), counts passed / partially covered /
 * skipped vectors and insists on a written reason for every skip.
 */

/** From dist/test/helpers/wycheproof.js, three levels up is the repository root. */
export const VECTORS_DIR = new URL('../../../test/vectors/', import.meta.url);

export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

export interface WycheproofTest {
  tcId: number;
  comment?: string;
  flags: string[];
  result: WycheproofResult;
}

export interface WycheproofGroup<T extends WycheproofTest> {
  type: string;
  tests: T[];
}

export interface WycheproofFile<G extends WycheproofGroup<WycheproofTest>> {
  algorithm: string;
  schema: string;
  numberOfTests: number;
  testGroups: G[];
}

/** A test with its group, flattened so a runner iterates one list. */
export interface GroupedTest<G, T> {
  readonly group: G;
  readonly test: T;
}

export function readVectorJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(relativePath, VECTORS_DIR)), 'utf8')) as T;
}

/** Loads `wycheproof/<name>`, checks its schema and that it holds exactly `numberOfTests` tests. */
export function loadWycheproof<T extends WycheproofTest, G extends WycheproofGroup<T> = WycheproofGroup<T> & Record<string, unknown>>(
  name: string,
  schema: string,
): { file: WycheproofFile<G>; tests: GroupedTest<G, T>[] } {
  const file = readVectorJson<WycheproofFile<G>>(`wycheproof/${name}`);
  assert.equal(file.schema, schema, `${name}: unexpected schema`);
  const tests = file.testGroups.flatMap((group) => group.tests.map((test) => ({ group, test })));
  assert.equal(tests.length, file.numberOfTests, `${name}: numberOfTests does not match the tests present`);
  assert.ok(tests.length > 0, `${name}: no tests`);
  return { file, tests };
}

export const hex = hexToBytes;

/** Byte equality with a short failure message (the default diff of two 3 KB hex strings is unreadable). */
export function assertBytes(actual: Uint8Array, expectedHex: string, what: string): void {
  const got = bytesToHex(actual);
  const want = expectedHex.toLowerCase();
  if (got === want) return;
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  assert.fail(
    `${what}: got ${actual.length} bytes ${abbrev(got)}, expected ${want.length / 2} bytes ${abbrev(want)} (first difference at byte ${Math.floor(i / 2)})`,
  );
}

function abbrev(h: string): string {
  return h.length <= 24 ? h : `${h.slice(0, 16)}…${h.slice(-8)}`;
}

/** Returned by a check to skip a vector for one implementation; the reason is printed and counted. */
export class Skip {
  constructor(readonly reason: string) {
    assert.ok(reason.trim().length > 0, 'every skip needs a written reason');
  }
}

export function skip(reason: string): Skip {
  return new Skip(reason);
}

export interface VectorContext {
  /** Counts a behaviour worth reporting (e.g. which way an `acceptable` vector went). */
  note(label: string): void;
  /** One sub-check of an otherwise checked vector could not run; the vector counts as "partial". */
  skipPart(reason: string): void;
}

export interface Tally {
  readonly file: string;
  readonly implementation: string;
  total: number;
  passed: number;
  partial: number;
  skipped: number;
  failed: number;
  readonly skipReasons: Map<string, number>;
  readonly partialReasons: Map<string, number>;
  readonly notes: Map<string, number>;
}

const tallies: Tally[] = [];

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/**
 * Runs `check` on every vector. A check asserts (throws) on failure, returns `skip(reason)` when the
 * implementation cannot be exercised on that vector, and returns nothing when the vector passed.
 * Fails the test if any vector failed, or if nothing at all was exercised.
 */
export function runVectors<V>(
  t: TestContext,
  file: string,
  implementation: string,
  vectors: readonly V[],
  id: (v: V) => string,
  check: (v: V, c: VectorContext) => void | Skip,
): Tally {
  const tally: Tally = {
    file,
    implementation,
    total: 0,
    passed: 0,
    partial: 0,
    skipped: 0,
    failed: 0,
    skipReasons: new Map(),
    partialReasons: new Map(),
    notes: new Map(),
  };
  tallies.push(tally);
  const failures: string[] = [];
  for (const v of vectors) {
    tally.total++;
    const partials: string[] = [];
    const c: VectorContext = {
      note: (label) => bump(tally.notes, label),
      skipPart: (reason) => {
        assert.ok(reason.trim().length > 0, 'every skip needs a written reason');
        partials.push(reason);
      },
    };
    try {
      const outcome = check(v, c);
      if (outcome instanceof Skip) {
        tally.skipped++;
        bump(tally.skipReasons, outcome.reason);
      } else if (partials.length > 0) {
        tally.partial++;
        for (const r of partials) bump(tally.partialReasons, r);
      } else {
        tally.passed++;
      }
    } catch (err) {
      tally.failed++;
      const message = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
      failures.push(`${id(v)}: ${message.length > 300 ? `${message.slice(0, 300)}…` : message}`);
    }
  }
  for (const line of describeTally(tally)) t.diagnostic(line);
  assert.equal(tally.total, vectors.length);
  if (failures.length > 0) {
    const shown = failures.slice(0, 25).map((f) => `  ${f}`);
    if (failures.length > shown.length) shown.push(`  … and ${failures.length - shown.length} more`);
    assert.fail(`${file} × ${implementation}: ${failures.length} of ${vectors.length} vectors failed:\n${shown.join('\n')}`);
  }
  assert.ok(tally.passed + tally.partial > 0, `${file} × ${implementation}: no vector was exercised`);
  return tally;
}

function describeTally(x: Tally): string[] {
  const lines = [
    `${x.file} × ${x.implementation}: ${x.total} vectors, ${x.passed} passed, ${x.partial} passed with a sub-check skipped, ${x.skipped} skipped, ${x.failed} failed`,
  ];
  for (const [reason, n] of x.skipReasons) lines.push(`  skipped ${n}: ${reason}`);
  for (const [reason, n] of x.partialReasons) lines.push(`  sub-check skipped in ${n}: ${reason}`);
  for (const [label, n] of x.notes) lines.push(`  note ${n}: ${label}`);
  return lines;
}

/** The per-file, per-implementation table of everything run so far in this process. */
export function summaryTable(): string {
  const head = ['file', 'implementation', 'vectors', 'passed', 'partial', 'skipped', 'failed'];
  const rows = tallies.map((x) => [x.file, x.implementation, x.total, x.passed, x.partial, x.skipped, x.failed].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
  const reasons = new Map<string, number>();
  for (const x of tallies) {
    for (const [r, n] of x.skipReasons) reasons.set(`[skip] ${x.file} × ${x.implementation}: ${r}`, n);
    for (const [r, n] of x.partialReasons) reasons.set(`[partial] ${x.file} × ${x.implementation}: ${r}`, n);
    for (const [r, n] of x.notes) reasons.set(`[note] ${x.file} × ${x.implementation}: ${r}`, n);
  }
  if (reasons.size > 0) out.push('', ...[...reasons].map(([r, n]) => `${String(n).padStart(4)} × ${r}`));
  return out.join('\n');
}

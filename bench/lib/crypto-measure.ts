/**
 * Fixed-time micro-benchmark runner for `bench/crypto.ts` (single thread, synchronous operations).
 *
 * Method: every operation of a group is first warmed up (JIT, WASM tier-up, caches) and its cost
 * estimated, which sets a batch size of roughly 1 ms so the clock is read rarely. The group is then
 * measured in `rounds`; inside a round the operations take turns in short slices (round-robin, the
 * starting operation rotating per slice), so that on a shared, noisy machine every operation of the
 * group sees the same background load. Each operation accumulates `seconds` of measured time per
 * round. Reported figures are the median over rounds of the mean time per operation.
 */

export interface BenchOp {
  readonly id: string;
  /** One operation; the result is kept in a sink so it cannot be optimised away. */
  readonly run: () => unknown;
}

export interface RoundResult {
  readonly ops: number;
  readonly seconds: number;
  readonly meanUs: number;
  readonly opsPerSec: number;
}

export interface Measurement {
  readonly id: string;
  /** Median over rounds of the mean time per operation. */
  readonly meanUs: number;
  /** 1e6 / meanUs. */
  readonly opsPerSec: number;
  /** Operations and measured seconds summed over all rounds (warm-up excluded). */
  readonly totalOps: number;
  readonly totalSeconds: number;
  readonly rounds: readonly RoundResult[];
}

export interface GroupOptions {
  /** Measured time per operation per round. */
  readonly seconds: number;
  readonly rounds: number;
  /** Length of one interleaving slice; a round of `seconds` is cut into ⌈seconds / slice⌉ turns. */
  readonly sliceSeconds: number;
  /** Warm-up time per operation (at least `MIN_WARMUP_ITERATIONS` calls regardless). */
  readonly warmupSeconds: number;
  readonly onProgress?: (message: string) => void;
}

const MIN_WARMUP_ITERATIONS = 3;
const TARGET_BATCH_NS = 1e6;
const MAX_BATCH = 100_000;

/**
 * Results land here; a module-level sink defeats dead-code elimination of pure calls. Exported so the
 * writes stay observable from outside the module (and no-unused-vars does not call it write-only).
 * @public
 */
export let sink: unknown;

function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Runs `op` for at least `seconds` and `MIN_WARMUP_ITERATIONS` calls; returns the estimated ns per call. */
function warmUp(op: BenchOp, seconds: number): number {
  const budget = seconds * 1e9;
  const start = nowNs();
  let iterations = 0;
  let elapsed: number;
  do {
    sink = op.run();
    iterations++;
    elapsed = nowNs() - start;
  } while (iterations < MIN_WARMUP_ITERATIONS || elapsed < budget);
  // Re-estimate on a short steady-state run, the first calls include compilation.
  const probeStart = nowNs();
  const probeIterations = Math.max(1, Math.min(iterations, Math.ceil(iterations / 2)));
  for (let i = 0; i < probeIterations; i++) sink = op.run();
  return Math.max(1, (nowNs() - probeStart) / probeIterations);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Measures the operations of one group together, interleaved; see the module comment. */
export function measureGroup(ops: readonly BenchOp[], options: GroupOptions): Measurement[] {
  if (ops.length === 0) return [];
  const batch = new Map<string, number>();
  for (const op of ops) {
    const estimateNs = warmUp(op, options.warmupSeconds);
    batch.set(op.id, Math.max(1, Math.min(MAX_BATCH, Math.floor(TARGET_BATCH_NS / estimateNs))));
  }

  const slices = Math.max(1, Math.ceil(options.seconds / options.sliceSeconds - 1e-9));
  const sliceNs = (options.seconds * 1e9) / slices;
  const perRound: Map<string, RoundResult[]> = new Map(ops.map((op) => [op.id, []]));

  for (let round = 0; round < options.rounds; round++) {
    const opsDone = new Map<string, number>(ops.map((op) => [op.id, 0]));
    const nsSpent = new Map<string, number>(ops.map((op) => [op.id, 0]));
    for (let slice = 0; slice < slices; slice++) {
      const first = (slice + round) % ops.length;
      for (let k = 0; k < ops.length; k++) {
        const op = ops[(first + k) % ops.length] as BenchOp;
        const n = batch.get(op.id) as number;
        // Each operation owes `sliceNs` of measured time per slice; carry any shortfall forward so
        // the round total stays `seconds` even though batches do not divide slices exactly.
        const owed = sliceNs * (slice + 1) - (nsSpent.get(op.id) as number);
        let spent = 0;
        let done = 0;
        do {
          const t0 = nowNs();
          for (let i = 0; i < n; i++) sink = op.run();
          spent += nowNs() - t0;
          done += n;
        } while (spent < owed);
        opsDone.set(op.id, (opsDone.get(op.id) as number) + done);
        nsSpent.set(op.id, (nsSpent.get(op.id) as number) + spent);
      }
    }
    for (const op of ops) {
      const count = opsDone.get(op.id) as number;
      const ns = nsSpent.get(op.id) as number;
      (perRound.get(op.id) as RoundResult[]).push({ ops: count, seconds: ns / 1e9, meanUs: ns / count / 1e3, opsPerSec: (count * 1e9) / ns });
    }
    if (options.rounds > 1) options.onProgress?.(`  round ${round + 1}/${options.rounds} done`);
  }

  return ops.map((op) => {
    const rounds = perRound.get(op.id) as RoundResult[];
    const meanUs = median(rounds.map((r) => r.meanUs));
    return {
      id: op.id,
      meanUs,
      opsPerSec: 1e6 / meanUs,
      totalOps: rounds.reduce((s, r) => s + r.ops, 0),
      totalSeconds: rounds.reduce((s, r) => s + r.seconds, 0),
      rounds,
    };
  });
}

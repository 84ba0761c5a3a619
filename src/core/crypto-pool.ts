import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { ProviderSet } from '../crypto/providers.js';
import type {
  OpenBatchResult,
  OpenBatchTask,
  OpenResult,
  OpenTask,
  SealBatchResult,
  SealBatchTask,
  TaskError,
  VerifyResult,
  VerifyTask,
} from './crypto-tasks.js';
import type { WorkerStartup } from '../common/worker-startup.js';

/** Thrown when the service is at capacity: callers answer 503 with Retry-After instead of queueing without bound. */
export class CryptoPoolBusyError extends Error {
  readonly code = 'SERVICE_BUSY';
  constructor() {
    super('the service is at capacity, retry shortly');
    this.name = 'CryptoPoolBusyError';
  }
}

/** A crypto task outlived its deadline: its worker was replaced, the request answers 503. */
export class CryptoTimeoutError extends Error {
  readonly code = 'CRYPTO_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super('the cryptographic operation did not finish in time, retry shortly');
    this.name = 'CryptoTimeoutError';
  }
}

export interface CryptoPoolOptions {
  readonly masterKey: Uint8Array;
  readonly threads?: number;
  /** Tasks waiting for a thread before new ones are refused. */
  readonly maxQueue?: number;
  /**
   * A task still unsettled after this long fails with `CryptoTimeoutError` and its worker thread is
   * terminated and replaced (piscina does this on abort), so one stuck task cannot wedge the pool.
   */
  readonly taskTimeoutMs?: number;
  readonly providerSet?: ProviderSet;
  /** Run by every worker thread as it starts (the benchmark's thread accounting; src/core/worker-startup.ts). */
  readonly workerStartup?: WorkerStartup | undefined;
  /** Told how long each task took, queue wait included (metrics). */
  readonly onTaskSettled?: ((task: TaskSettled) => void) | undefined;
}

export interface TaskSettled {
  readonly op: 'seal' | 'open' | 'verify' | 'other';
  readonly outcome: 'ok' | 'error' | 'busy' | 'timeout';
  readonly seconds: number;
}

/** Tasks handed to the pool so far, by kind (for tests and metrics). */
export interface TaskCounts {
  seal: number;
  open: number;
  verify: number;
  other: number;
}

export class CryptoPool {
  private readonly pool: Piscina;
  readonly threads: number;
  readonly maxQueue: number;
  readonly taskTimeoutMs: number;
  private inFlightTasks = 0;
  private readonly onTaskSettled: ((task: TaskSettled) => void) | undefined;
  readonly tasksRun: TaskCounts = { seal: 0, open: 0, verify: 0, other: 0 };

  constructor(options: CryptoPoolOptions) {
    this.threads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? this.threads * 64;
    this.taskTimeoutMs = options.taskTimeoutMs ?? 30_000;
    this.onTaskSettled = options.onTaskSettled;
    this.pool = new Piscina({
      // CommonJS on purpose, so piscina never require()s an ES module (crypto-worker-entry.cts).
      filename: new URL('./crypto-worker-entry.cjs', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { masterKey: options.masterKey, providerSet: options.providerSet ?? 'fastest', startup: options.workerStartup },
    });
  }

  /** One v2 batch (src/core/seal-batcher.ts groups single requests into these). */
  sealBatch(task: Omit<SealBatchTask, 'op'>): Promise<SealBatchResult | TaskError> {
    this.tasksRun.seal++;
    return this.run('seal', { op: 'seal-batch', ...task }) as Promise<SealBatchResult | TaskError>;
  }

  open(task: Omit<OpenTask, 'op'>): Promise<OpenResult> {
    this.tasksRun.open++;
    return this.run('open', { op: 'open', ...task }) as Promise<OpenResult>;
  }

  /** Several opens in one task: one thread hop for a batch API call. */
  openBatch(task: Omit<OpenBatchTask, 'op'>): Promise<OpenBatchResult | TaskError> {
    this.tasksRun.open++;
    return this.run('open', { op: 'open-batch', ...task }) as Promise<OpenBatchResult | TaskError>;
  }

  /** The plaintext of the pending signature is moved to the worker, not copied. */
  verify(task: Omit<VerifyTask, 'op'>): Promise<VerifyResult> {
    this.tasksRun.verify++;
    return this.run('verify', { op: 'verify', ...task }, {}, [task.pending.plaintext.buffer]) as Promise<VerifyResult>;
  }

  /**
   * Runs the default export of another worker module (its URL) on the same threads, under the same
   * queue limit and deadline: the benchmark's crypto-ceiling tasks (bench/server/ceiling-task.ts).
   */
  runModule(filename: string, task: object): Promise<unknown> {
    this.tasksRun.other++;
    return this.run('other', task, { filename });
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  /** True when a new task would be refused: checked before a request is even read (src/http/admission.ts). */
  get saturated(): boolean {
    return this.pool.queueSize >= this.maxQueue;
  }

  /** Tasks handed to the pool and not yet settled (queued or running). */
  get inFlight(): number {
    return this.inFlightTasks;
  }

  /**
   * Lets every task already handed in finish (piscina's own close only waits for the running ones
   * and fails the queued ones), then stops the threads.
   */
  async close(): Promise<void> {
    const deadline = Date.now() + this.taskTimeoutMs;
    while (this.inFlightTasks > 0 && Date.now() < deadline) await sleep(5);
    await this.pool.close();
  }

  private async run(op: TaskSettled['op'], task: object, options: { filename?: string } = {}, transferList?: ArrayBufferLike[]): Promise<unknown> {
    if (this.saturated) {
      this.onTaskSettled?.({ op, outcome: 'busy', seconds: 0 });
      throw new CryptoPoolBusyError();
    }
    this.inFlightTasks++;
    const started = performance.now();
    let outcome: TaskSettled['outcome'] = 'error';
    const signal = AbortSignal.timeout(this.taskTimeoutMs);
    try {
      const result: unknown = await this.pool.run(task, { ...options, signal, ...(transferList ? { transferList: transferList as ArrayBuffer[] } : {}) });
      outcome = 'ok';
      return result;
    } catch (e) {
      if (signal.aborted) {
        outcome = 'timeout';
        throw new CryptoTimeoutError(this.taskTimeoutMs);
      }
      if (e instanceof Error && /queue is full/i.test(e.message)) {
        outcome = 'busy';
        throw new CryptoPoolBusyError();
      }
      throw e;
    } finally {
      this.inFlightTasks--;
      this.onTaskSettled?.({ op, outcome, seconds: (performance.now() - started) / 1000 });
    }
  }
}

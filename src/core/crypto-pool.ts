import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { ProviderSet } from '../crypto/providers.js';
import { ThreadIdRegistry } from './thread-id.js';
import type { CryptoTask, OpenResult, OpenTask, SealResult, SealTask } from './crypto-tasks.js';

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
}

export class CryptoPool {
  private readonly pool: Piscina;
  readonly threads: number;
  readonly maxQueue: number;
  readonly taskTimeoutMs: number;
  private inFlightTasks = 0;
  private readonly threadIdRegistry = new ThreadIdRegistry();

  constructor(options: CryptoPoolOptions) {
    this.threads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? this.threads * 64;
    this.taskTimeoutMs = options.taskTimeoutMs ?? 30_000;
    this.pool = new Piscina({
      // CommonJS on purpose, so piscina never require()s an ES module (crypto-worker-entry.cts).
      filename: new URL('./crypto-worker-entry.cjs', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: this.maxQueue,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { masterKey: options.masterKey, providerSet: options.providerSet ?? 'fastest', threadIds: this.threadIdRegistry.buffer },
    });
  }

  seal(task: Omit<SealTask, 'op'>): Promise<SealResult> {
    return this.run({ op: 'seal', ...task }) as Promise<SealResult>;
  }

  open(task: Omit<OpenTask, 'op'>): Promise<OpenResult> {
    return this.run({ op: 'open', ...task }) as Promise<OpenResult>;
  }

  ceiling(op: 'ceiling-seal' | 'ceiling-open', size: number): Promise<unknown> {
    return this.run({ op, size });
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  /** True when a new task would be refused: checked before a request is even read (src/http/admission.ts). */
  get saturated(): boolean {
    return this.pool.queueSize >= this.maxQueue;
  }

  /** Kernel thread ids of the worker threads started so far (Linux; for the benchmark's CPU accounting). */
  threadIds(): number[] {
    return this.threadIdRegistry.ids();
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

  private async run(task: CryptoTask): Promise<unknown> {
    if (this.saturated) throw new CryptoPoolBusyError();
    this.inFlightTasks++;
    const signal = AbortSignal.timeout(this.taskTimeoutMs);
    try {
      return await this.pool.run(task, { signal });
    } catch (e) {
      if (signal.aborted) throw new CryptoTimeoutError(this.taskTimeoutMs);
      if (e instanceof Error && /queue is full/i.test(e.message)) throw new CryptoPoolBusyError();
      throw e;
    } finally {
      this.inFlightTasks--;
    }
  }
}

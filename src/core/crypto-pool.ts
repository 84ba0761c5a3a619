import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ProviderSet } from '../crypto/providers.js';
import type { CryptoTask, OpenResult, OpenTask, SealResult, SealTask } from './crypto-tasks.js';

/** Thrown when the pool's queue is full: callers answer 503 with Retry-After instead of queueing without bound. */
export class CryptoPoolBusyError extends Error {
  readonly code = 'SERVICE_BUSY';
  constructor() {
    super('the service is at capacity, retry shortly');
    this.name = 'CryptoPoolBusyError';
  }
}

export interface CryptoPoolOptions {
  readonly masterKey: Uint8Array;
  readonly threads?: number;
  /** Tasks waiting for a thread before new ones are refused. */
  readonly maxQueue?: number;
  readonly providerSet?: ProviderSet;
}

export class CryptoPool {
  private readonly pool: Piscina;
  readonly threads: number;

  constructor(options: CryptoPoolOptions) {
    this.threads = options.threads ?? availableParallelism();
    this.pool = new Piscina({
      filename: new URL('./crypto-worker.js', import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      maxQueue: options.maxQueue ?? this.threads * 64,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { masterKey: options.masterKey, providerSet: options.providerSet ?? 'fastest' },
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

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async run(task: CryptoTask): Promise<unknown> {
    if (this.pool.queueSize >= this.pool.options.maxQueue) throw new CryptoPoolBusyError();
    try {
      return await this.pool.run(task);
    } catch (e) {
      if (e instanceof Error && /queue is full/i.test(e.message)) throw new CryptoPoolBusyError();
      throw e;
    }
  }
}

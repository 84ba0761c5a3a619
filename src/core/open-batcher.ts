import { Coalescer } from './coalescer.js';
import type { CryptoPool } from './crypto-pool.js';
import type { OpenResult, OpenTask } from './crypto-tasks.js';

/** Opens per batch at most: a batch holds at most this many envelopes' plaintexts in one task. */
const MAX_OPENS_PER_TASK = 64;

/**
 * Gathers single decrypt and decrypt-verify requests into open-batch tasks while every worker thread
 * already has one: the hop to a worker and back costs the event loop about as much as the rest of
 * the request, and under load it is paid once per batch. While a worker is free a request goes
 * alone, at once. Each item carries its own key and fails alone (src/core/crypto-worker.ts).
 */
export class OpenBatcher {
  private readonly coalescer: Coalescer<null, Omit<OpenTask, 'op'>, OpenResult>;

  constructor(pool: CryptoPool, windowMs: number) {
    this.coalescer = new Coalescer({
      maxItems: MAX_OPENS_PER_TASK,
      windowMs,
      maxInFlight: pool.threads,
      dispatch: async (_, items) => {
        if (items.length === 1) return [await pool.open(items[0] as Omit<OpenTask, 'op'>)];
        const answer = await pool.openBatch({ items });
        return answer.kind === 'error' ? items.map(() => answer) : answer.results;
      },
    });
  }

  open(task: Omit<OpenTask, 'op'>): Promise<OpenResult> {
    return this.coalescer.submit('open', null, task);
  }
}

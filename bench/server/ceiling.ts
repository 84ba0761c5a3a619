import type { CryptoPool } from '../../src/core/crypto-pool.js';

/** A crypto-ceiling task: the primitive work of one sign-encrypt or decrypt-verify of `size` bytes. */
export interface CeilingTask {
  readonly op: CeilingOp;
  readonly size: number;
}

export type CeilingOp = 'ceiling-seal' | 'ceiling-open';

const CEILING_TASK = new URL('./ceiling-task-entry.cjs', import.meta.url).href;

/** Runs one ceiling task (bench/server/ceiling-task.ts) on the pool's threads. */
export function runCeiling(pool: CryptoPool, op: CeilingOp, size: number): Promise<unknown> {
  return pool.runModule(CEILING_TASK, { op, size } satisfies CeilingTask);
}

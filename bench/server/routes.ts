import type { FastifyInstance } from 'fastify';
import type { CryptoPool } from '../../src/core/crypto-pool.js';
import { runCeiling as runCeilingTask, type CeilingOp } from './ceiling.js';
import { processStats } from './process-stats.js';

/**
 * Ceiling routes, registered only with PQSEAL_BENCH_ROUTES=true: the HTTP ceiling (a bare JSON
 * route) and the crypto ceiling (exactly the primitive work of sign-encrypt / decrypt-verify on the
 * same worker pool, with no identity, validation, store or audit).
 *
 * Also the server-side figures the load benchmark (bench/load.ts) records per measurement point:
 * GET /bench/stats (event-loop delay percentiles since the last reset, memory) and
 * POST /bench/stats/reset.
 */

/** What the routes read from the running service. */
export interface BenchHost {
  readonly pool: CryptoPool;
  readonly auditWriter: { readonly stats: { readonly batches: number; readonly records: number } };
  readonly admission: { readonly inFlight: unknown };
}

/** Sampling period of the event-loop delay histogram. */

export async function benchRoutes(
  app: FastifyInstance,
  host: BenchHost,
  threadRoles: () => { readonly crypto: readonly number[]; readonly audit: number | undefined },
): Promise<void> {
  // Ceiling tasks handed to the pool and not yet settled (a diagnostic: it should fall to 0 when
  // the load stops).
  let ceilingInFlight = 0;
  const runCeiling = async (op: CeilingOp) => {
    ceilingInFlight++;
    try {
      await runCeilingTask(host.pool, op, 1024);
    } finally {
      ceilingInFlight--;
    }
    return { ok: true };
  };
  app.post('/bench/bare', { schema: { hide: true } }, async () => ({ ok: true }));
  app.post('/bench/crypto-seal', { schema: { hide: true } }, () => runCeiling('ceiling-seal'));
  app.post('/bench/crypto-open', { schema: { hide: true } }, () => runCeiling('ceiling-open'));

  const processStatistics = processStats();
  app.addHook('onClose', async () => processStatistics.stop());
  app.get('/bench/stats', { schema: { hide: true } }, async () => {
    return {
      ...processStatistics.snapshot(),
      ceilingInFlight,
      audit: { ...host.auditWriter.stats },
      admission: host.admission.inFlight,
      // The main thread's kernel id is the process id.
      threads: { main: process.pid, ...threadRoles() },
    };
  });
  app.post('/bench/stats/reset', { schema: { hide: true } }, async () => {
    processStatistics.reset();
    return { ok: true };
  });
}

import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { CryptoPool } from '../../src/core/crypto-pool.js';
import { runCeiling as runCeilingTask, type CeilingOp } from './ceiling.js';

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
const ELD_RESOLUTION_MS = 10;

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

  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  let since = Date.now();
  app.addHook('onClose', async () => eld.disable());
  // The histogram records the whole interval between timer callbacks, so an idle loop reads about
  // `resolution`; the delay is what exceeds it (the convention of @fastify/under-pressure).
  const delayMs = (ns: number) => (Number.isFinite(ns) && eld.count > 0 ? Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS) : 0);
  app.get('/bench/stats', { schema: { hide: true } }, async () => {
    const memory = process.memoryUsage();
    return {
      sinceMs: Date.now() - since,
      eventLoopDelayMs: {
        resolution: ELD_RESOLUTION_MS,
        samples: eld.count,
        mean: delayMs(eld.mean),
        p50: delayMs(eld.percentile(50)),
        p90: delayMs(eld.percentile(90)),
        p99: delayMs(eld.percentile(99)),
        max: delayMs(eld.max),
      },
      memory: { rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers },
      uptimeSeconds: process.uptime(),
      ceilingInFlight,
      audit: { ...host.auditWriter.stats },
      admission: host.admission.inFlight,
      // The main thread's kernel id is the process id.
      threads: { main: process.pid, ...threadRoles() },
    };
  });
  app.post('/bench/stats/reset', { schema: { hide: true } }, async () => {
    eld.reset();
    since = Date.now();
    return { ok: true };
  });
}

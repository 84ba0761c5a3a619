import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.js';

/**
 * Ceiling routes, registered only with PQSEAL_BENCH_ROUTES=true: the HTTP ceiling (a bare JSON
 * route) and the crypto ceiling (exactly the primitive work of sign-encrypt / decrypt-verify on the
 * same worker pool, with no identity, validation, store or audit).
 */
export async function benchRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  const ceiling = services.benchCeiling;
  if (!ceiling) return;
  app.post('/bench/bare', { schema: { hide: true } }, async () => ({ ok: true }));
  app.post('/bench/crypto-seal', { schema: { hide: true } }, async () => {
    await ceiling('ceiling-seal', 1024);
    return { ok: true };
  });
  app.post('/bench/crypto-open', { schema: { hide: true } }, async () => {
    await ceiling('ceiling-open', 1024);
    return { ok: true };
  });
}

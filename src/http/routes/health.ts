import type { FastifyInstance } from 'fastify';
import type { HttpServices } from '../services.js';

export async function healthRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/healthz', { schema: { tags: ['Operations'], summary: 'Liveness: 200 while the process is up' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['Operations'], summary: 'Readiness: 200 when the store can be written, else 503' } }, async (_request, reply) => {
    const ready = await services.ready().catch(() => false);
    return reply.code(ready ? 200 : 503).send(ready ? { status: 'ready' } : { status: 'unavailable', code: 'STORE_UNAVAILABLE' });
  });
}

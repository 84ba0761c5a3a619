import type { FastifyInstance } from 'fastify';
import { checkReadiness } from '../../ports/readiness.js';
import type { HttpServices } from '../services.js';

export async function healthRoutes(app: FastifyInstance, services: HttpServices): Promise<void> {
  app.get('/healthz', { schema: { tags: ['Operations'], summary: 'Liveness: 200 while the process is up' } }, async () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    { schema: { tags: ['Operations'], summary: 'Readiness: 200 when every dependency (the store, and Redis when configured) can be used, else 503' } },
    async (_request, reply) => {
      const result = await checkReadiness(services.readiness);
      return result.ready
        ? reply.code(200).send({ status: 'ready' })
        : reply.code(503).send({ status: 'unavailable', code: result.code, failing: result.failing });
    },
  );
}

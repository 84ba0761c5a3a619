import type { FastifyInstance } from 'fastify';
import type { Admission } from '../core/admission.js';
import { CryptoPoolBusyError } from '../core/crypto-pool.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that run crypto opt in to load shedding (src/core/admission.ts). */
    admission?: boolean;
  }
}

/**
 * Refuses work the service cannot take before reading the body or checking credentials, so a
 * refusal costs microseconds and no memory. Refusals are logged, not audited: nobody has been
 * authenticated yet, and writing records is the last thing an overloaded service should do.
 */
export function installAdmission(app: FastifyInstance, admission: Admission): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.config?.admission) return;
    const header = request.headers['content-length'];
    const length = header === undefined ? undefined : Number(header);
    const release = admission.admit(Number.isFinite(length) ? length : undefined);
    if (!release) {
      request.audit = null;
      throw new CryptoPoolBusyError();
    }
    // 'close' follows 'finish' and also fires when the client goes away: the budget is always returned.
    reply.raw.once('close', release);
  });
}

import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * Every answer is `X-Content-Type-Options: nosniff`, and nothing is stored by a cache unless its
 * route says otherwise (the console's static assets set their own Cache-Control): an intermediary
 * must never keep decrypted plaintext, tokens or audit records.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    setSecurityHeaders(reply);
    return payload;
  });
}

/** For answers that run no hooks (src/http/framework-errors.ts) as for those that do. */
export function setSecurityHeaders(reply: FastifyReply): void {
  void reply.header('x-content-type-options', 'nosniff');
  if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
}

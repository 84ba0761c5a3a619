import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Admission, AdmissionTicket } from '../core/admission.js';
import { CryptoPoolBusyError } from '../core/crypto-pool.js';
import { addressKey } from '../common/client-address.js';
import { BodyTap } from './body-tap.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that run crypto opt in to load shedding (src/core/admission.ts). */
    admission?: boolean;
  }
}

/**
 * Load shedding (src/core/admission.ts) on the HTTP lifecycle. `onRequest`, before credentials are
 * checked: refused when the crypto queue is full, a refusal that costs microseconds. `preParsing`,
 * after the caller was authenticated (src/http/authentication.ts, an `onRequest` hook registered
 * after this one) and before the body is read: the body is charged chunk by chunk as it arrives
 * (Content-Length or chunked alike), and a chunk past a limit refuses the request mid-way (503,
 * Connection: close). Refusals are logged, not audited: writing records is the last thing an
 * overloaded service should do.
 */
export function installAdmission(app: FastifyInstance, admission: Admission): void {
  const tickets = new WeakMap<FastifyRequest, AdmissionTicket>();

  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.config?.admission) return;
    // One IPv6 host has a whole /64 to pick addresses from: it is one client here, as for logins.
    const ticket = admission.admit(addressKey(request.ip));
    if (!ticket) refuse(request);
    tickets.set(request, ticket);
    // 'close' follows 'finish' and also fires when the client goes away: the budget is always returned.
    reply.raw.once('close', () => ticket.release());
  });

  app.addHook('preParsing', async (request, reply, payload) => {
    const ticket = tickets.get(request);
    if (!ticket) return payload;
    // Over the body limit, Fastify refuses it (413) without reading it: nothing to charge.
    if (Number(request.headers['content-length']) > (request.routeOptions.bodyLimit ?? Infinity)) return payload;
    // Charged as the bytes arrive, never by the announced Content-Length: an upload that announces
    // 4 MiB and then stalls holds nothing, so idle clients cannot reserve the budget (issue 10, item 1).
    return new BodyTap(payload, (bytes) => {
      if (ticket.charge(bytes)) return undefined;
      request.audit = null;
      void reply.header('connection', 'close');
      return new CryptoPoolBusyError();
    });
  });
}

function refuse(request: FastifyRequest): never {
  request.audit = null;
  throw new CryptoPoolBusyError();
}

import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ServiceError } from '../common/service-error.js';
import { BodyTap } from './body-tap.js';

/**
 * Body inactivity: a request body that sends no byte for `timeoutMs` is answered 408 REQUEST_TIMEOUT
 * and its connection closed, so a client that announces a body and stalls holds a socket for seconds,
 * not for ever. The whole-request limit (PQSEAL_REQUEST_TIMEOUT_MS) is Node's own `requestTimeout`;
 * this one lets a large body arriving slowly but steadily still succeed.
 *
 * A body the service answered without reading (refused before it was read: unauthenticated, at
 * capacity, too large) is drained and discarded, as Node does, so the client reads its answer instead
 * of a reset; but a drain that stalls for `timeoutMs` or runs past the body limit closes the socket.
 */
export function installBodyTimeout(app: FastifyInstance, timeoutMs: number): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    if (request.raw.complete || !hasBody(request)) return payload;
    const tap = new BodyTap(payload, () => {
      timer.refresh();
      return undefined;
    });
    const timer = setTimeout(() => {
      void reply.header('connection', 'close');
      tap.fail(new ServiceError('REQUEST_TIMEOUT', `the request body stalled: no byte arrived for ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = (): void => clearTimeout(timer);
    tap.once('end', stop).once('close', stop);
    reply.raw.once('close', stop);
    return tap;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw;
    // An answer before the whole body was read: refused before reading it, or given up mid-way.
    if (raw.complete || !hasBody(request) || reply.getHeader('connection') === 'close') return payload;
    drainUnlessStalled(raw, timeoutMs, request.routeOptions.bodyLimit ?? 0);
    return payload;
  });
}

function hasBody(request: FastifyRequest): boolean {
  const { headers } = request;
  return headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
}

function drainUnlessStalled(raw: IncomingMessage, timeoutMs: number, limit: number): void {
  let drained = 0;
  const close = (): void => {
    raw.socket?.destroy();
  };
  const timer = setTimeout(close, timeoutMs);
  const stop = (): void => clearTimeout(timer);
  raw.unpipe();
  raw.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (limit > 0 && drained > limit) close();
    else timer.refresh();
  });
  raw.once('end', stop).once('close', stop);
  raw.resume();
}

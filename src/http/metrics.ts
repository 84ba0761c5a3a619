import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLoopback } from '../config.js';
import { LATENCY_BUCKETS, type Metrics, type MetricsExposition } from '../ports/metrics.js';
import { sendError, sentErrorCode, wireError } from './error-mapping.js';

/** Refusals that say the service is protecting itself, counted by code. */
const REFUSALS = new Set(['RATE_LIMITED', 'LOGIN_RATE_LIMITED', 'LOGIN_THROTTLED', 'SERVICE_BUSY', 'CRYPTO_TIMEOUT']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface RequestMetricsOptions {
  /** This process's number in a cluster (0 … N-1): requests per process show how the port spreads them. */
  readonly processLabel?: string | undefined;
}

/**
 * Request count and latency by route pattern (never the raw URL: an unknown path is `unmatched`),
 * method and status, and refusals by code. Label values come from fixed sets only.
 */
export function installRequestMetrics(app: FastifyInstance, metrics: Metrics, options: RequestMetricsOptions = {}): void {
  const requests = metrics.counter('http_requests_total', 'HTTP requests answered, by route pattern, method and status', ['route', 'method', 'status']);
  const latency = metrics.histogram('http_request_duration_seconds', 'Time from a request arriving to its answer being sent', {
    labelNames: ['route', 'method', 'status'],
    buckets: LATENCY_BUCKETS,
  });
  const refusals = metrics.counter('refusals_total', 'Requests refused by rate limits and load shedding, by error code', ['code']);
  const perProcess =
    options.processLabel === undefined
      ? undefined
      : metrics.counter('process_requests_total', 'HTTP requests answered by each server process of a cluster', ['process']);
  app.addHook('onResponse', async (request, reply) => {
    const labels = { route: routeOf(request), method: METHODS.has(request.method) ? request.method : 'other', status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    const code = sentErrorCode(request);
    if (code !== undefined && REFUSALS.has(code)) refusals.inc({ code });
    if (perProcess) perProcess.inc({ process: options.processLabel as string });
  });
}

function routeOf(request: FastifyRequest): string {
  // Fastify's not-found handler has no route pattern (or the catch-all's): one value for all of them.
  const pattern = request.routeOptions.url;
  return pattern === undefined || pattern === '*' || pattern === '/*' ? 'unmatched' : pattern;
}

/**
 * GET /metrics on the public port. Without PQSEAL_METRICS_PUBLIC only a caller on this host gets it:
 * the peer must be a loopback address and the request must not have come through a proxy (a proxy on
 * this host would make every outside caller look local). Anyone else gets the same 404 as an unknown
 * route. With PQSEAL_METRICS_PORT the route is not on the public port at all (src/server.ts).
 */
export async function metricsRoute(app: FastifyInstance, exposition: MetricsExposition, options: { readonly public: boolean }): Promise<void> {
  app.get(
    '/metrics',
    { schema: { tags: ['Operations'], summary: 'Prometheus metrics (text format), names prefixed pqseal_; from this host only unless PQSEAL_METRICS_PUBLIC' } },
    async (request, reply) => {
      if (!options.public && !fromThisHost(request)) {
        return sendError(request, reply, wireError('NOT_FOUND', `no route for GET /metrics`));
      }
      const text = await exposition.text();
      return reply.header('content-type', exposition.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}

function fromThisHost(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress ?? '';
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !proxied && (isLoopback(peer) || peer.startsWith('::ffff:127.'));
}

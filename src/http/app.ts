import { randomUUID } from 'node:crypto';
import type { ServerOptions } from 'node:http';
import type { Writable } from 'node:stream';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { readFileSync } from 'node:fs';
import { healthRoutes } from './routes/health.js';
import { identityRoutes } from './routes/identity.js';
import { operationRoutes } from './routes/operations.js';
import { auditRoutes } from './routes/audit.js';
import { keyRoutes } from './routes/keys.js';
import { permissionRoutes } from './routes/permissions.js';
import { installAuditHooks } from './audit-hooks.js';
import { installAdmission } from './admission.js';
import { installAuthentication } from './authentication.js';
import { installBodyTimeout } from './body-timeout.js';
import { clientErrorHandler, trackAnswersBeforeBody } from './client-errors.js';
import { frameworkErrorHandler } from './framework-errors.js';
import { installSecurityHeaders } from './security-headers.js';
import { docsPlugin, swaggerOptions, trackRoutes } from './openapi.js';
import { sendError, toWireError, wireError } from './error-mapping.js';
import { REDACT_PATHS } from './redaction.js';
import type { HttpServices } from './services.js';
import { installRequestMetrics, metricsRoute } from './metrics.js';
import type { MetricsExposition } from '../ports/metrics.js';
import type { Config } from '../config.js';
import { consolePlugin } from '../web/plugin.js';

export interface AppOptions {
  /** Where JSON log lines go (tests capture them); stdout by default. */
  readonly logStream?: Writable;
  /** More routes, registered after the service's own (the benchmark's: bench/server/mode.ts). */
  readonly plugins?: readonly ((scope: FastifyInstance) => Promise<void>)[];
  /** What GET /metrics serves on this port; unset = no /metrics route here (PQSEAL_METRICS_PORT). */
  readonly metricsExposition?: MetricsExposition | undefined;
  /** This process's number in a cluster, for the per-process request count. */
  readonly processLabel?: string | undefined;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the HTTP application: every concern is a plugin or a route module with its own schemas. */
export async function buildApp(services: HttpServices, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  // Node's own limits on slow clients (the body's inactivity is src/http/body-timeout.ts). Fastify would
  // set requestTimeout to 0 (none) unless given; Node enforces both on a sweep, every 30 s unless told.
  const nodeServerOptions = {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    connectionsCheckingInterval: sweepInterval(config),
  };
  const https =
    config.tlsCertFile && config.tlsKeyFile ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile), ...nodeServerOptions } : null;
  const serverOptions: FastifyServerOptions & { http?: ServerOptions } = {
    logger: {
      level: config.logLevel,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    http: nodeServerOptions,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // PQSEAL_TRUST_PROXY: request.ip is the client's address as forwarded by trusted proxies only.
    trustProxy: fastifyTrustProxy(config.trustProxy),
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
  };
  const app = (https ? Fastify({ ...serverOptions, https } as FastifyServerOptions) : Fastify(serverOptions)) as unknown as FastifyInstance;
  // Before any route: test/browser/openapi.test.ts checks every registered route is in the OpenAPI document.
  trackRoutes(app);
  // First onResponse hook: a request answered before its body arrived gets no second answer.
  trackAnswersBeforeBody(app);
  installRequestMetrics(app, services.metrics, { processLabel: options.processLabel });

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  installSecurityHeaders(app);
  // While draining for shutdown, tell keep-alive clients to go, so close() does not wait for their
  // idle connections to time out (72 s by default).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.setErrorHandler((error, request, reply) => {
    const wire = toWireError(error);
    // A capacity refusal is the service working as designed, and anyone can provoke it: one short
    // line, no stack, so a flood of them cannot flood the error log.
    if (wire.code === 'SERVICE_BUSY') request.log.warn({ code: wire.code, status: wire.status }, 'request refused for capacity');
    else if (wire.status >= 500) request.log.error({ err: error, code: wire.code }, 'request failed');
    else request.log.info({ code: wire.code, status: wire.status }, 'request rejected');
    return sendError(request, reply, wire);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, wireError('NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)));

  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST'],
      // x-amz-target: the SDK's login() calls InitiateAuth from browsers too.
      allowedHeaders: ['content-type', 'authorization', 'username', 'password', 'api_key', 'access_key', 'secret_key', 'x-request-id', 'x-amz-target'],
      exposedHeaders: ['x-request-id', 'retry-after'],
    });
  }
  // OpenAPI 3.1 from the route schemas (src/http/openapi.ts), browsable at /docs with local assets.
  await app.register(swagger, swaggerOptions());
  await app.register(async (scope) => docsPlugin(scope));

  // Before any route: every audited route's outcome passes through these hooks.
  installAuditHooks(app, services.sharing);
  // After the audit hooks: a refused request leaves no record (src/http/admission.ts).
  installAdmission(app, services.admission);
  // After admission's queue check, before its body charge: nobody unauthenticated holds capacity.
  installAuthentication(app, services);
  // After admission's body charge: a body refused for capacity is not waited for.
  installBodyTimeout(app, config.bodyTimeoutMs);
  await app.register(async (scope) => healthRoutes(scope, services));
  const exposition = options.metricsExposition;
  if (exposition) await app.register(async (scope) => metricsRoute(scope, exposition, { public: config.metricsPublic }));
  await app.register(async (scope) => identityRoutes(scope, services));
  await app.register(async (scope) => operationRoutes(scope, services));
  await app.register(async (scope) => permissionRoutes(scope, services));
  await app.register(async (scope) => auditRoutes(scope, services));
  await app.register(async (scope) => keyRoutes(scope, services));
  await app.register(async (scope) => consolePlugin(scope, { hsts: Boolean(https) }));
  for (const plugin of options.plugins ?? []) await app.register(async (scope) => plugin(scope));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** How often Node sweeps connections for the headers and request timeouts: a fraction of the shortest. */
function sweepInterval(config: Config): number {
  const timeouts = [config.headersTimeoutMs, config.requestTimeoutMs].filter((t) => t > 0);
  return Math.max(50, Math.min(1_000, Math.floor(Math.min(...timeouts, 4_000) / 4)));
}

/** Fastify takes a hop count too, though its types do not say so: as the function it would build. */
function fastifyTrustProxy(setting: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof setting === 'number') return (_address: string, hop: number) => hop < setting;
  return typeof setting === 'boolean' ? setting : [...setting];
}

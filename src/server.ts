import type { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { isLoopback, type Config } from './config.js';
import { buildApp } from './http/app.js';
import { bootstrapDemo, type DemoBootstrap } from './core/demo.js';
import { describeNameConflicts, findNameConflicts, hasNameConflicts } from './partners/name-conflicts.js';
import { openServices, type ServiceOptions, type Services } from './services.js';
import { listenMetrics, type MetricsListener } from './http/metrics-listener.js';
import type { MetricsExposition } from './ports/metrics.js';

export interface RunningServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly services: Services;
  /** Set on the first start with an empty DATA_DIR when the demo organisation was created. */
  readonly demo: DemoBootstrap | undefined;
  /** GET /metrics on PQSEAL_METRICS_PORT, when this process serves it. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logStream?: Writable;
  /** Tests: do not print the banner. */
  readonly quiet?: boolean;
  /** Tests: e.g. an injectable clock (`now`). */
  readonly serviceOptions?: ServiceOptions;
  /** Set in a cluster worker (src/cli/cluster.ts): the primary aggregates /metrics and owns the metrics port. */
  readonly cluster?: { readonly processLabel: string; readonly exposition: MetricsExposition } | undefined;
}

/** Opens the services, builds the app and listens. Closing drains in-flight requests, then the pool and store. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  // Benchmark code is loaded only when asked for (bench/server/mode.ts).
  const bench = config.benchRoutes ? (await import('../bench/server/mode.js')).benchMode() : undefined;
  const services = await openServices(config, { ...options.serviceOptions, ...(bench ? { workerStartup: bench.workerStartup } : {}) });
  if (options.cluster) services.prometheus?.shareWithClusterPrimary();
  const exposition = options.cluster?.exposition ?? services.prometheus;
  const app = await buildApp(services, {
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(bench ? { plugins: [bench.routes(services)] } : {}),
    metricsExposition: config.metricsPort === undefined ? exposition : undefined,
    processLabel: options.cluster?.processLabel,
  });
  // A refused checkpoint (a chain that does not verify) is an error in the server's log.
  services.checkpoints.useLogger(app.log);
  let demo: DemoBootstrap | undefined;
  let metricsListener: MetricsListener | undefined;
  try {
    // Nodes of one PostgreSQL store starting at once: one creates the demo, the others find it made (or skip).
    const bootstrapped = config.demo ? await services.store.exclusive('demo-bootstrap', () => bootstrapDemo(services)) : undefined;
    demo = bootstrapped?.ran ? bootstrapped.value : undefined;
    if (config.metricsPort !== undefined && !options.cluster && exposition) metricsListener = await listenMetrics(config.host, config.metricsPort, exposition);
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await metricsListener?.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    await services.close().catch(() => undefined);
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.tlsCertFile ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${scheme}://${host}:${port}`;
  if (!isLoopback(config.host) && !config.tlsCertFile) {
    app.log.warn(
      { host: config.host },
      'WARNING: listening on a non-loopback address WITHOUT TLS: credentials and data cross the network in clear. Set PQSEAL_TLS_CERT and PQSEAL_TLS_KEY, or terminate TLS in front.',
    );
  }
  await warnOfNameConflicts(services, app);
  let closed: Promise<void> | undefined;
  return {
    url,
    app,
    services,
    demo,
    metricsUrl: metricsListener?.url,
    close() {
      closed ??= (async () => {
        await metricsListener?.close();
        await app.close();
        await services.close();
      })();
      return closed;
    },
  };
}

/**
 * Before the processes of a cluster start: the master key file, the store's migrations, the JWT and
 * checkpoint keys, and the demo organisation (whose secrets the caller prints once), made by one
 * process so that N processes starting together never race to create them.
 */
export async function prepareDataDir(config: Config): Promise<DemoBootstrap | undefined> {
  const services = await openServices(config, { workers: false });
  try {
    await services.serviceKeys.active();
    if (!config.demo) return undefined;
    // Primaries on several hosts of one PostgreSQL store: one makes the demo (as in startServer).
    const made = await services.store.exclusive('demo-bootstrap', () => bootstrapDemo(services));
    return made.ran ? made.value : undefined;
  } finally {
    await services.close();
  }
}

/**
 * Organisation names kept from before names were unique (or checked) keep working after the upgrade;
 * until an operator renames them, every start says so.
 */
async function warnOfNameConflicts(services: Services, app: FastifyInstance): Promise<void> {
  const conflicts = await findNameConflicts(services.store);
  if (!hasNameConflicts(conflicts)) return;
  app.log.warn(
    {
      duplicateNames: conflicts.duplicates.map((g) => ({ nameKey: g.nameKey, orgIds: g.organisations.map((o) => o.id) })),
      invalidNames: conflicts.invalid.map((i) => ({ orgId: i.organisation.id, problem: i.problem })),
    },
    `WARNING: organisation names that impersonate or collide, kept from before names were unique: ${describeNameConflicts(conflicts).join('; ')}. Clients must identify signers by signer_org_id. List them with "pqseal org name-conflicts" and fix them with "pqseal org rename --org <id> --name <new name>".`,
  );
}

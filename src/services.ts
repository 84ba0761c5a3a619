import { mkdirSync } from 'node:fs';
import { loadProviders, type CryptoProviders } from './crypto/providers.js';
import type { Config } from './config.js';
import { Authenticator } from './core/authenticator.js';
import { CryptoPool } from './core/crypto-pool.js';
import { Admission } from './core/admission.js';
import type { WorkerStartup } from './common/worker-startup.js';
import { OpenBatcher } from './core/open-batcher.js';
import { SealBatcher } from './core/seal-batcher.js';
import { Operations } from './core/operations.js';
import type { NewOrganisation } from './core/organisations.js';
import { InMemoryTokenBuckets } from './memory/rate-limiter.js';
import { RequestLimiter } from './http/request-limit.js';
import { TtlCache } from './memory/ttl-cache.js';
import type { HttpServices, IdentityEndpoints } from './http/services.js';
import { identityEvents } from './ports/invalidation.js';
import { TokenService } from './identity/tokens.js';
import { UserPool } from './identity/user-pool.js';
import { Periodic } from './core/periodic.js';
import { KeyRing } from './keys/key-ring.js';
import { loadMasterKey, MasterKeyEncryption, requireMasterKeyFromEnv } from './keys/master-key.js';
import { publishedOrgKeys } from './keys/org-keys.js';
import { verifyCredentials } from './partners/credentials.js';
import { onboardOrganisation } from './core/onboarding.js';
import { rotateOrgKeys } from './core/key-rotation.js';
import { OrganisationDirectory } from './core/organisation-directory.js';
import type { IdentityProvider } from './ports/identity-provider.js';
import type { Store } from './ports/store.js';
import { selectStore } from './store/select.js';
import { storeReadiness } from './store/readiness.js';
import { PrometheusMetrics } from './prometheus/prometheus-metrics.js';
import { cacheLookups, countedCache, timedAuditSink } from './prometheus/instrumented.js';
import { LATENCY_BUCKETS, noMetrics } from './ports/metrics.js';
import { Checkpointer } from './audit/checkpointer.js';
import { listAuditRecords } from './audit/query.js';
import { ServiceKeys } from './audit/service-key.js';
import { auditSettings } from './audit/settings.js';
import { AuditWriter } from './audit/writer.js';
import { InProcessAuditSink, ThreadAuditSink } from './audit/append-thread.js';
import { orgKeyDocument } from './keys/public-key-document.js';
import { ALWAYS_TRUSTED, type CacheTrust } from './ports/cache.js';
import type { TokenBuckets } from './ports/rate-limit.js';
import { CacheTrustSignals } from './memory/cache-trust.js';
import { ChangeLogPoller } from './store/change-log-poller.js';
import { openRedisSharedState, type RedisSharedState } from './redis/shared-state.js';
import { PartnerAccess, PermissionPolicy } from './permissions/policy.js';
import { Revocations } from './permissions/revocations.js';

/** The composition root: every long-lived part of the system, wired once. */
export interface Services extends HttpServices {
  readonly store: Store;
  readonly providers: CryptoProviders;
  readonly masterKey: Uint8Array;
  readonly keyRing: KeyRing;
  readonly pool: CryptoPool;
  readonly userPool: UserPool;
  readonly tokens: TokenService;
  createOrganisation(name: string): Promise<NewOrganisation>;
  rotateKeys(orgId: string): Promise<{ signingKeyId: string; kemKeyId: string }>;
  /** Partner revocations (fail-closed reads, changes committed with their audit record). */
  readonly revocations: Revocations;
  /** Group-committed audit appends. */
  readonly auditWriter: AuditWriter;
  /** The service's checkpoint-signing key. */
  readonly serviceKeys: ServiceKeys;
  /** Signed checkpoints of the audit chain heads. */
  readonly checkpoints: Checkpointer;
  readonly now: () => number;
  /** This process's metrics registry (serving only; the CLI's admin commands record nothing). */
  readonly prometheus: PrometheusMetrics | undefined;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Start the crypto worker pool (the CLI's admin commands do not need it). */
  readonly workers?: boolean;
  readonly now?: () => number;
  /** Audit group-commit delay (default PQSEAL_AUDIT_FLUSH_MS, 0 = the end of the I/O turn). */
  readonly auditFlushMs?: number;
  /** Seconds between signed checkpoints when serving (default PQSEAL_CHECKPOINT_INTERVAL, 300; 0 = off). */
  readonly checkpointIntervalSeconds?: number;
  /** File every checkpoint is appended to (default PQSEAL_CHECKPOINT_SINK; none). */
  readonly checkpointSink?: string;
  /** Run by each crypto worker and audit writer thread as it starts (only the benchmark sets it: bench/server/mode.ts). */
  readonly workerStartup?: { readonly crypto?: WorkerStartup; readonly audit?: WorkerStartup } | undefined;
}

export async function openServices(config: Config, options: ServiceOptions = {}): Promise<Services> {
  // A node on a shared PostgreSQL store keeps nothing of its own on disk (no DATA_DIR, no key file).
  if (config.databaseUrl === undefined) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { key: masterKey } = config.databaseUrl === undefined ? loadMasterKey(config.dataDir, config.masterKey) : requireMasterKeyFromEnv(config.masterKey);
  const keyEncryption = new MasterKeyEncryption(masterKey);
  const serving = options.workers !== false;
  const prometheus = serving ? new PrometheusMetrics() : undefined;
  const metrics = prometheus ?? noMetrics;
  const queryLatency = metrics.histogram('store_query_seconds', 'Store query latency by statement kind and outcome', {
    labelNames: ['kind', 'outcome'],
    buckets: LATENCY_BUCKETS,
  });
  const store = await selectStore(config, (kind, seconds, failed) => queryLatency.observe({ kind, outcome: failed ? 'error' : 'ok' }, seconds));
  const { db } = store;
  const providers = await loadProviders('fastest');
  const now = options.now ?? Date.now;
  const shared = await openSharedState(config, store, masterKey, options.workers !== false);
  const { redis, cacheTrust } = shared;
  // Redis holds one budget for every process; in memory, each of the host's processes takes its share.
  const buckets = (kind: 'request' | 'login', ratePerSecond: number, burst: number, clock?: () => number): TokenBuckets =>
    redis
      ? redis.buckets(kind, ratePerSecond, burst)
      : new InMemoryTokenBuckets(config.processes > 1 ? ratePerSecond / config.processes : ratePerSecond, perProcess(burst, config.processes), clock);

  const tokens = await TokenService.create({
    store,
    issuer: config.issuer ?? `http${config.tlsCertFile ? 's' : ''}://${config.host}:${config.port}`,
    clientId: config.clientId,
    idTokenTtlSeconds: config.tokenTtlSeconds,
    wrap: (secret, kid) => keyEncryption.wrap(secret, `jwt:${kid}`),
    unwrap: (wrapped, kid) => keyEncryption.unwrap(wrapped, `jwt:${kid}`),
    now,
  });
  const userPool = new UserPool({
    store,
    tokens,
    now,
    addressBuckets: buckets('login', config.loginRatePerAddress / 60, config.loginBurstPerAddress, now),
    userCacheTtlMs: config.loginCacheTtlSeconds * 1000,
    cacheTrust,
  });
  const keyRing = new KeyRing(db, undefined, cacheTrust);
  identityEvents.on('keys-rotated', ({ orgId }) => keyRing.invalidate(orgId));
  const pool =
    options.workers === false
      ? undefined
      : new CryptoPool({
          masterKey,
          threads: config.workers,
          maxQueue: config.maxQueue,
          taskTimeoutMs: config.cryptoTimeoutMs,
          workerStartup: options.workerStartup?.crypto,
          onTaskSettled: (() => {
            const taskTime = metrics.histogram('crypto_task_seconds', 'Crypto task time, queue wait included, by operation and outcome', {
              labelNames: ['op', 'outcome'],
              buckets: LATENCY_BUCKETS,
            });
            return (t: { op: string; outcome: string; seconds: number }) => taskTime.observe({ op: t.op, outcome: t.outcome }, t.seconds);
          })(),
        });
  if (pool) {
    metrics.gauge('crypto_queue_depth', 'Crypto tasks waiting for a worker thread', () => pool.queueSize);
    metrics.gauge('crypto_tasks_in_flight', 'Crypto tasks queued or running', () => pool.inFlight);
  }

  const identityProvider: IdentityProvider = {
    login: (username, password, from) => userPool.managedLogin(username, password, from),
    checkLogin: (login) => userPool.checkLogin(login),
    verifyBearer: (token) => userPool.authenticateBearer(token),
    verifyPartner: (credentials) => verifyCredentials(store, credentials),
  };
  const lookups = cacheLookups(metrics);
  const auth = new Authenticator(
    identityProvider,
    (ttlMs, name) => countedCache(new TtlCache(ttlMs, undefined, now, cacheTrust), lookups, name),
    config.loginCacheTtlSeconds * 1000,
  );
  identityEvents.on('user-changed', ({ userId }) => auth.forgetUser(userId));
  identityEvents.on('credentials-revoked', ({ credentialId }) => auth.forgetCredentials(credentialId));

  const organisationNames = countedCache(new TtlCache<string>(config.loginCacheTtlSeconds * 1000, undefined, undefined, cacheTrust), lookups, 'organisation');
  identityEvents.on('organisation-renamed', ({ orgId }) => organisationNames.delete(orgId));
  const organisations = new OrganisationDirectory(store, organisationNames);

  const identity: IdentityEndpoints = {
    clientId: config.clientId,
    passwordAuth: async (username, password, from) => {
      const s = await userPool.login(username, password, from);
      return { userId: s.user.id, orgId: s.user.orgId, idToken: s.idToken, accessToken: s.accessToken, refreshToken: s.refreshToken, expiresIn: s.expiresIn };
    },
    refreshAuth: async (refreshToken) => {
      const s = await userPool.refresh(refreshToken);
      return { userId: s.user.id, orgId: s.user.orgId, idToken: s.idToken, accessToken: s.accessToken, expiresIn: s.expiresIn };
    },
    jwks: () => tokens.jwks(),
    openidConfiguration: () => tokens.openidConfiguration(),
  };

  const pruning = new Periodic(
    () => userPool.prune(),
    (e) => process.emitWarning(`pruning login records failed: ${e instanceof Error ? e.message : String(e)}`),
  );
  const audit = auditSettings();
  const revocations = new Revocations(db, now);
  // SQLite file: its own connection on a thread (the fsync off the event loop); PostgreSQL: the pool.
  const auditSink =
    store.kind === 'sqlite' && store.filename !== ':memory:' ? new ThreadAuditSink(store.filename, options.workerStartup?.audit) : new InProcessAuditSink(db);
  const auditWriter = new AuditWriter(timedAuditSink(auditSink, metrics), { flushDelayMs: options.auditFlushMs ?? audit.flushDelayMs });
  const serviceKeys = new ServiceKeys(db, providers, keyEncryption, now);
  const checkpoints = new Checkpointer(db, providers, serviceKeys, {
    now,
    sink: options.checkpointSink ?? audit.checkpointSink,
    leader: (fn) => store.exclusive('audit-checkpoints', fn),
  });
  if (serving) {
    // Generated on first start, so GET /v1/keys/service is stable from the first request.
    try {
      await serviceKeys.active();
      await shared.startWatching();
    } catch (e) {
      await pool?.close();
      await redis?.close();
      await store.close();
      throw e;
    }
    const reportCheckpointError = (e: unknown) => process.emitWarning(`audit checkpoint failed: ${e instanceof Error ? e.message : String(e)}`);
    checkpoints.start((options.checkpointIntervalSeconds ?? audit.checkpointIntervalSeconds) * 1000, reportCheckpointError);
    pruning.start(config.pruneIntervalSeconds * 1000);
  }

  const requirePool = (): CryptoPool => {
    if (!pool) throw new Error('crypto pool not started');
    return pool;
  };
  const batchSize = metrics.histogram('seal_batch_size', 'Envelopes sealed per batch (one encapsulation, one signature)', {
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024],
  });
  const batcher =
    pool &&
    new SealBatcher(pool, { maxItems: config.sealBatchMax, windowMs: config.sealBatchWindowMs, onBatch: (envelopes) => batchSize.observe({}, envelopes) });
  const requireBatcher = (): SealBatcher => {
    if (!batcher) throw new Error('crypto pool not started');
    return batcher;
  };
  const opener = pool && new OpenBatcher(pool, config.sealBatchWindowMs);
  const requireOpener = (): OpenBatcher => {
    if (!opener) throw new Error('crypto pool not started');
    return opener;
  };

  return {
    config,
    store,
    providers,
    masterKey,
    keyRing,
    get pool() {
      return requirePool();
    },
    userPool,
    tokens,
    auth,
    identity,
    operations: new Operations({
      keys: keyRing,
      get pool() {
        return requirePool();
      },
      get batcher() {
        return requireBatcher();
      },
      get opener() {
        return requireOpener();
      },
      orgName: (orgId) => organisations.name(orgId),
      partners: new PartnerAccess(revocations, now),
    }),
    permissions: new PermissionPolicy((orgId) => organisations.exists(orgId), now),
    limiter: new RequestLimiter(buckets('request', config.rateLimitPerSecond, config.rateLimitBurst)),
    admission: new Admission({
      maxInFlightBytes: config.maxInFlightBytes,
      maxInFlightBytesPerClient: config.maxInFlightBytesPerClient,
      saturated: () => pool?.saturated ?? false,
    }),
    readiness: [
      { name: 'store', code: 'STORE_UNAVAILABLE', ready: storeReadiness(store) },
      ...(redis ? [{ name: 'redis', code: 'RATE_LIMIT_UNAVAILABLE' as const, ready: async () => redis.ready() }] : []),
    ],
    metrics,
    prometheus,
    revocations,
    auditWriter,
    serviceKeys,
    checkpoints,
    now,
    sharing: {
      audit: auditWriter,
      auditLog: { list: (chainId, query) => listAuditRecords(db, chainId, query) },
      organisationExists: (orgId) => organisations.exists(orgId),
      revocations,
      publicKeys: {
        org: async (orgId) => {
          const published = await publishedOrgKeys(db, orgId);
          return published && orgKeyDocument(published);
        },
        service: () => serviceKeys.document(),
      },
      now,
    },

    createOrganisation: (name) => onboardOrganisation({ store, providers, keyEncryption, now }, name),

    rotateKeys: (orgId) => rotateOrgKeys({ store, providers, keyEncryption, keyRing, organisationExists: (id) => organisations.exists(id), now }, orgId),

    async close() {
      checkpoints.stop();
      await pruning.stop();
      await shared.stopWatching();
      // Crypto first: requests whose clients went away are still running; let them finish and
      // write their audit records (one more I/O turn) before the audit log closes.
      await pool?.close();
      await new Promise((resolve) => setImmediate(resolve));
      await auditWriter.close();
      // Sign the final chain heads on a clean shutdown (best effort: the store may already be gone).
      if (serving) await checkpoints.runAsLeader().catch(() => undefined);
      await redis?.close();
      await store.close();
    },
  };
}

interface SharedState {
  readonly redis: RedisSharedState | undefined;
  readonly cacheTrust: CacheTrust;
  /** Serving processes: poll the store's change log and watch the sources of invalidations. */
  startWatching(): Promise<void>;
  stopWatching(): Promise<void>;
}

/**
 * How this process shares state with the others on the same store: Redis when REDIS_URL is set
 * (global rate limits, invalidations by pub/sub), and always, when serving, the store's change log.
 * Caches are trusted only while every source of invalidations is healthy.
 */
async function openSharedState(config: Config, store: Store, masterKey: Uint8Array, serving: boolean): Promise<SharedState> {
  const warn = (message: string): void => process.emitWarning(message);
  const redis = config.redisUrl
    ? await openRedisSharedState({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        timeoutMs: config.redisTimeoutMs,
        masterKey,
        bus: identityEvents,
        receive: serving,
        warn,
      })
    : undefined;
  if (!serving) return { redis, cacheTrust: ALWAYS_TRUSTED, startWatching: async () => undefined, stopWatching: async () => undefined };
  const changeLog = new ChangeLogPoller(store.db, (event) => identityEvents.emit(event, 'remote'), {
    intervalMs: config.changePollMs,
    // Longer than a PostgreSQL transaction can stay open (idle_in_transaction = 2 × statement timeout).
    gapGraceMs: Math.max(60_000, 3 * config.databaseStatementTimeoutMs),
    onError: (e) => warn(`polling the change log failed (caches bypassed until it works): ${e instanceof Error ? e.message : String(e)}`),
    onRecovered: () => warn('polling the change log works again'),
  });
  const healthy = [() => changeLog.healthy(), ...(redis ? [() => redis.subscriptionLive()] : [])];
  const cacheTrust = new CacheTrustSignals(healthy);
  return {
    redis,
    cacheTrust,
    async startWatching() {
      await changeLog.start();
      cacheTrust.watch();
    },
    async stopWatching() {
      cacheTrust.stop();
      await changeLog.stop();
    },
  };
}

/**
 * In-memory limits are per process: with N processes on one port and no shared store for them, each
 * takes 1/N of the configured budget (at least 1 where the budget is not 0), so the host as a whole
 * keeps the configured limit whichever process a request lands on.
 */
function perProcess(budget: number, processes: number): number {
  if (budget === 0 || processes <= 1) return budget;
  return Math.max(1, budget / processes);
}

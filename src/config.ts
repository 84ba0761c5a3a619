import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { MAX_BATCH_SIZE } from '@pqseal/sdk/envelope';

/**
 * Every setting, from the environment (flags of `pqseal serve` override). The README's configuration
 * table lists the same names and defaults; keep them together.
 */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly masterKey: string | undefined;
  readonly clientId: string;
  readonly issuer: string | undefined;
  readonly bodyLimitBytes: number;
  /** Items of one `batch_input` at most (each costs one token of the caller's rate limit). */
  readonly batchMaxItems: number;
  /** Bytes of `data` / `encrypted_data` across the items of one `batch_input` at most; at most the body limit. */
  readonly batchMaxBytes: number;
  readonly tlsCertFile: string | undefined;
  readonly tlsKeyFile: string | undefined;
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerSecond: number;
  readonly rateLimitBurst: number;
  readonly loginCacheTtlSeconds: number;
  /** Password checks per minute per client address (InitiateAuth and uncached Managed logins); 0 = no limit. */
  readonly loginRatePerAddress: number;
  /** How many password checks one address may make at once before the per-minute rate applies. */
  readonly loginBurstPerAddress: number;
  /** Seconds between deletions of stale failed-login records and dead refresh tokens; 0 = never. */
  readonly pruneIntervalSeconds: number;
  readonly tokenTtlSeconds: number;
  readonly workers: number;
  readonly maxQueue: number;
  /** Envelopes sealed under one Merkle-batch signature and one encapsulation at most; 1 = every envelope alone. */
  readonly sealBatchMax: number;
  /** How long a seal may wait for others to join its batch while every crypto worker is busy. */
  readonly sealBatchWindowMs: number;
  /** Request bodies of authenticated callers being processed at once before new ones get 503; 0 = no limit. */
  readonly maxInFlightBytes: number;
  /** The share of `maxInFlightBytes` one client address may hold; 0 = no per-address limit. */
  readonly maxInFlightBytesPerClient: number;
  /** Time allowed for a request's headers to arrive (from its first byte); 0 = none. */
  readonly headersTimeoutMs: number;
  /** Time allowed for a whole request, headers and body, to arrive; 0 = none. */
  readonly requestTimeoutMs: number;
  /** A request body that sends no byte for this long is refused (408) and its connection closed. */
  readonly bodyTimeoutMs: number;
  /** A crypto task unsettled after this long fails (503) and its worker is replaced. */
  readonly cryptoTimeoutMs: number;
  readonly logLevel: string;
  readonly demo: boolean;
  readonly benchRoutes: boolean;
  /** NODE_ENV=production: no demo organisation unless PQSEAL_DEMO asks, the first-start banner only on a terminal. */
  readonly production: boolean;
  /** Redis for rate limits and cache invalidation shared by every process (`redis://` or `rediss://`); none = this process only. */
  readonly redisUrl: string | undefined;
  /** Every Redis key and channel starts with it, so several deployments can share one Redis. */
  readonly redisPrefix: string;
  /** A Redis command or connection attempt that takes longer fails (503 for rate-limited requests). */
  readonly redisTimeoutMs: number;
  /** Milliseconds between polls of the store's change log (changes made by the CLI or another node); at least 10. */
  readonly changePollMs: number;
  /** Server processes on one port (node:cluster); 1 = no cluster. */
  readonly processes: number;
  /** Fastify's `trustProxy`: false, true, a hop count, or a list of trusted proxy addresses/CIDRs. */
  readonly trustProxy: boolean | number | readonly string[];
  /** Serve /metrics on this port only (not on the public one); undefined = on the public port. */
  readonly metricsPort: number | undefined;
  /** Answer /metrics on the public port to any client, not only to loopback callers. */
  readonly metricsPublic: boolean;
  /** DATABASE_URL: PostgreSQL (`postgres://…`) instead of the SQLite file in DATA_DIR. */
  readonly databaseUrl: string | undefined;
  /** Connections each process opens to PostgreSQL at most. */
  readonly databasePoolMax: number;
  /** Waiting for a PostgreSQL connection fails (503) after this long. */
  readonly databaseConnectTimeoutMs: number;
  /** A PostgreSQL statement or lock wait running longer is cancelled (503); 0 = no limit. */
  readonly databaseStatementTimeoutMs: number;
}

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const processes = processCount(env);
  // The processes share the cores: each one's crypto pool gets its share (at least one thread).
  const workers = int(env, 'PQSEAL_WORKERS', Math.max(1, Math.floor(availableParallelism() / processes)));
  const maxInFlightBytes = overrides.maxInFlightBytes ?? int(env, 'PQSEAL_MAX_INFLIGHT_BYTES', workers * 8 * 1024 * 1024);
  const production = env.NODE_ENV === 'production';
  const bodyLimitBytes = overrides.bodyLimitBytes ?? int(env, 'PQSEAL_BODY_LIMIT', 4 * 1024 * 1024);
  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: int(env, 'PORT', 8080),
    dataDir: resolve(env.DATA_DIR || './data'),
    masterKey: env.PQSEAL_MASTER_KEY || undefined,
    clientId: env.PQSEAL_CLIENT_ID || 'pqseal',
    issuer: env.PQSEAL_ISSUER || undefined,
    bodyLimitBytes,
    batchMaxItems: int(env, 'PQSEAL_BATCH_MAX_ITEMS', 1000),
    // The items' fields are inside the body, so the body limit already bounds them: by default the
    // batch may carry what one single request may, and a lower value bounds a batch's work on its own.
    batchMaxBytes: int(env, 'PQSEAL_BATCH_MAX_BYTES', bodyLimitBytes),
    tlsCertFile: env.PQSEAL_TLS_CERT || undefined,
    tlsKeyFile: env.PQSEAL_TLS_KEY || undefined,
    corsOrigins: (env.PQSEAL_CORS_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rateLimitPerSecond: int(env, 'PQSEAL_RATE_LIMIT_RPS', 100),
    rateLimitBurst: int(env, 'PQSEAL_RATE_LIMIT_BURST', 200),
    loginCacheTtlSeconds: int(env, 'PQSEAL_LOGIN_CACHE_TTL', 60),
    loginRatePerAddress: int(env, 'PQSEAL_LOGIN_RATE_PER_ADDRESS', 60),
    loginBurstPerAddress: int(env, 'PQSEAL_LOGIN_BURST_PER_ADDRESS', 30),
    pruneIntervalSeconds: int(env, 'PQSEAL_PRUNE_INTERVAL', 3600),
    tokenTtlSeconds: int(env, 'PQSEAL_TOKEN_TTL', 3600),
    workers,
    maxQueue: int(env, 'PQSEAL_MAX_QUEUE', workers * 64),
    sealBatchMax: bounded(env, 'PQSEAL_SEAL_BATCH_MAX', 64, 1, 1024),
    sealBatchWindowMs: bounded(env, 'PQSEAL_SEAL_BATCH_WINDOW_MS', 1, 0, 10),
    maxInFlightBytes,
    maxInFlightBytesPerClient: int(env, 'PQSEAL_MAX_INFLIGHT_BYTES_PER_CLIENT', Math.floor(maxInFlightBytes / 2)),
    headersTimeoutMs: int(env, 'PQSEAL_HEADERS_TIMEOUT_MS', 10_000),
    requestTimeoutMs: int(env, 'PQSEAL_REQUEST_TIMEOUT_MS', 120_000),
    bodyTimeoutMs: int(env, 'PQSEAL_BODY_TIMEOUT_MS', 10_000),
    cryptoTimeoutMs: int(env, 'PQSEAL_CRYPTO_TIMEOUT_MS', 30_000),
    logLevel: env.LOG_LEVEL || 'info',
    demo: bool(env, 'PQSEAL_DEMO', !production),
    benchRoutes: bool(env, 'PQSEAL_BENCH_ROUTES', false),
    production,
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.PQSEAL_REDIS_PREFIX ?? 'pqseal:',
    redisTimeoutMs: int(env, 'PQSEAL_REDIS_TIMEOUT_MS', 500),
    changePollMs: int(env, 'PQSEAL_CHANGE_POLL_MS', 250),
    processes,
    trustProxy: trustProxy(env.PQSEAL_TRUST_PROXY),
    metricsPort: env.PQSEAL_METRICS_PORT ? int(env, 'PQSEAL_METRICS_PORT', 0) : undefined,
    metricsPublic: bool(env, 'PQSEAL_METRICS_PUBLIC', false),
    databaseUrl: env.DATABASE_URL || undefined,
    databasePoolMax: int(env, 'PQSEAL_DATABASE_POOL_MAX', 10),
    databaseConnectTimeoutMs: int(env, 'PQSEAL_DATABASE_CONNECT_TIMEOUT_MS', 5_000),
    databaseStatementTimeoutMs: int(env, 'PQSEAL_DATABASE_STATEMENT_TIMEOUT_MS', 15_000),
    ...overrides,
  };
  if (config.loginRatePerAddress > 0 && config.loginBurstPerAddress < 1) {
    throw new ConfigError('PQSEAL_LOGIN_BURST_PER_ADDRESS must be at least 1 while PQSEAL_LOGIN_RATE_PER_ADDRESS is set');
  }
  if (config.batchMaxItems < 1) throw new ConfigError('PQSEAL_BATCH_MAX_ITEMS must be at least 1');
  // A seal batch_input is one v2 batch: more items than the format's batch size fail the whole call.
  if (config.batchMaxItems > MAX_BATCH_SIZE)
    throw new ConfigError(`PQSEAL_BATCH_MAX_ITEMS must be at most ${MAX_BATCH_SIZE} (the envelope format's batch size)`);
  if (config.batchMaxBytes < 1) throw new ConfigError('PQSEAL_BATCH_MAX_BYTES must be at least 1');
  if (config.batchMaxBytes > config.bodyLimitBytes) {
    throw new ConfigError('PQSEAL_BATCH_MAX_BYTES must not exceed PQSEAL_BODY_LIMIT (the items are inside the body: a larger value never applies)');
  }
  if (config.cryptoTimeoutMs < 1) throw new ConfigError('PQSEAL_CRYPTO_TIMEOUT_MS must be at least 1');
  if (config.bodyTimeoutMs < 1) throw new ConfigError('PQSEAL_BODY_TIMEOUT_MS must be at least 1');
  if (config.requestTimeoutMs > 0 && config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new ConfigError('PQSEAL_HEADERS_TIMEOUT_MS must not exceed PQSEAL_REQUEST_TIMEOUT_MS');
  }
  if (config.redisUrl !== undefined && !/^rediss?:\/\//.test(config.redisUrl)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  if (config.redisTimeoutMs < 1) throw new ConfigError('PQSEAL_REDIS_TIMEOUT_MS must be at least 1');
  if (config.changePollMs < 10) throw new ConfigError('PQSEAL_CHANGE_POLL_MS must be at least 10');
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) {
    throw new ConfigError('PQSEAL_TLS_CERT and PQSEAL_TLS_KEY must be given together');
  }
  if (config.databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (config.databasePoolMax < 2) throw new ConfigError('PQSEAL_DATABASE_POOL_MAX must be at least 2');
  if (config.databaseConnectTimeoutMs < 1) throw new ConfigError('PQSEAL_DATABASE_CONNECT_TIMEOUT_MS must be at least 1');
  return config;
}

function int(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function bounded(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = int(env, name, fallback);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** A boolean variable: true/false/1/0/yes/no in any case; unset or empty takes the default; anything else is refused. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ConfigError(`${name} must be one of true/false/1/0/yes/no, got "${raw}"`);
}

function processCount(env: Env): number {
  const raw = env.PQSEAL_PROCESSES;
  if (raw === 'auto') return availableParallelism();
  const n = int(env, 'PQSEAL_PROCESSES', 1);
  if (n < 1) throw new ConfigError('PQSEAL_PROCESSES must be at least 1 (or "auto")');
  return n;
}

/** PQSEAL_TRUST_PROXY as Fastify's `trustProxy`: true/false, a hop count, or comma-separated addresses/CIDRs. */
function trustProxy(raw: string | undefined): boolean | number | readonly string[] {
  const text = raw?.trim() ?? '';
  if (text === '' || text === 'false') return false;
  if (text === 'true') return true;
  if (/^\d+$/.test(text)) return Number(text);
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of list) {
    const [address = '', bits, extra] = entry.split('/');
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (isIP(address) === 6 ? 128 : 32));
    if (!isIP(address) || !validBits || extra !== undefined) {
      throw new ConfigError(`PQSEAL_TRUST_PROXY must be true, false, a hop count or a list of addresses/CIDRs, got "${entry}"`);
    }
  }
  return list;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

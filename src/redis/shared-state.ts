import type { ChangeEvents, EventChannel } from '../ports/invalidation.js';
import type { TokenBuckets } from '../ports/rate-limit.js';
import { RedisConnection } from './connection.js';
import { RedisInvalidationBridge } from './invalidation-bridge.js';
import { keyNamer } from './key-names.js';
import { RedisTokenBuckets } from './token-buckets.js';

export interface RedisSharedStateOptions {
  readonly url: string;
  /** Every key and channel starts with it (PQSEAL_REDIS_PREFIX). */
  readonly prefix: string;
  readonly timeoutMs: number;
  /** Names keys without revealing usernames and addresses (src/redis/key-names.ts). */
  readonly masterKey: Uint8Array;
  readonly bus: EventChannel<ChangeEvents>;
  /** A serving process also receives other processes' changes; the CLI only publishes its own. */
  readonly receive: boolean;
  readonly warn: (message: string) => void;
}

/** What a process keeps in Redis: rate-limit buckets and the invalidation channel. */
export interface RedisSharedState {
  buckets(kind: 'request' | 'login', ratePerSecond: number, burst: number): TokenBuckets;
  /** Caches may be trusted: the invalidation subscription is live (always true when not receiving). */
  subscriptionLive(): boolean;
  /** For /readyz. */
  ready(): boolean;
  close(): Promise<void>;
}

const CONNECT_WAIT_MS = 2_000;

export async function openRedisSharedState(options: RedisSharedStateOptions): Promise<RedisSharedState> {
  const connection = new RedisConnection({
    url: options.url,
    timeoutMs: options.timeoutMs,
    onDown: (error) =>
      options.warn(
        `redis unreachable (${error.name}: ${error.message}); ${options.receive ? 'rate-limited requests get 503 and caches are bypassed until it is back' : 'changes reach the servers through the change log only'}`,
      ),
    onUp: () => options.warn('redis reachable again'),
  });
  const name = keyNamer(options.masterKey, options.prefix);
  const bridge = new RedisInvalidationBridge(connection, `${options.prefix}changes`, options.bus, () => {
    // Reported by onDown; the change log carries the change anyway.
  });
  await connection.connect(CONNECT_WAIT_MS);
  await bridge.start(options.receive);
  return {
    buckets: (kind, ratePerSecond, burst) => new RedisTokenBuckets(connection, (key) => name(`rl:${kind}`, key), ratePerSecond, burst),
    subscriptionLive: () => !options.receive || connection.subscriptionsLive(),
    ready: () => connection.ready,
    async close() {
      await bridge.close();
      await connection.close();
    },
  };
}

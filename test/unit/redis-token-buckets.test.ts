import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventChannel, type ChangeEvents } from '../../src/ports/invalidation.js';
import { RateLimitUnavailableError } from '../../src/ports/rate-limit.js';
import { openRedisSharedState, type RedisSharedState } from '../../src/redis/shared-state.js';
import { countKeys, deleteKeys, PrivateRedis, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';

/** The Redis token bucket (src/redis/connection.ts's Lua script) against a real Redis. */

const masterKey = randomBytes(32);

function open(url: string, prefix: string, timeoutMs = 500): Promise<RedisSharedState> {
  return openRedisSharedState({ url, prefix, timeoutMs, masterKey, bus: new EventChannel<ChangeEvents>(), receive: false, warn: () => undefined });
}

describe('Redis token buckets (shared Redis)', () => {
  const prefix = testPrefix();
  let a: RedisSharedState;
  let b: RedisSharedState;
  before(async () => {
    a = await open(SHARED_REDIS_URL, prefix);
    b = await open(SHARED_REDIS_URL, prefix);
  });
  after(async () => {
    await a.close();
    await b.close();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  test('a burst is shared by two connections: exactly `burst` tokens, then the wait until the next one', async () => {
    const onA = a.buckets('request', 1, 5);
    const onB = b.buckets('request', 1, 5);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? onA : onB).tryTake('alice')));
    assert.equal(results.filter((r) => r === 0).length, 5, `five taken, got ${JSON.stringify(results)}`);
    for (const r of results.filter((r) => r !== 0)) assert.equal(r, 1, 'one token a second: retry after 1 s');
    assert.equal(await onA.tryTake('bob'), 0, 'another key has its own bucket');
  });

  test('tokens refill at the rate', async () => {
    const buckets = a.buckets('request', 20, 2);
    assert.equal(await buckets.tryTake('carol'), 0);
    assert.equal(await buckets.tryTake('carol'), 0);
    assert.equal(await buckets.tryTake('carol'), 1, 'empty');
    await sleep(120);
    assert.equal(await buckets.tryTake('carol'), 0, 'one token back after 50 ms at 20/s');
  });

  test('a rate of 0 never limits and touches nothing', async () => {
    const buckets = a.buckets('login', 0, 1);
    for (let i = 0; i < 5; i++) assert.equal(await buckets.tryTake('dave'), 0);
  });

  test('keys are under the prefix, expire, and do not reveal the username', async () => {
    const other = testPrefix();
    const s = await open(SHARED_REDIS_URL, other);
    try {
      await s.buckets('request', 10, 3).tryTake('erin@example');
      assert.equal(await countKeys(SHARED_REDIS_URL, other), 1);
      const { createClient } = await import('redis');
      const client = createClient({ url: SHARED_REDIS_URL });
      await client.connect();
      try {
        const [key] = await client.keys(`${other}*`);
        assert.ok(key !== undefined && key.startsWith(`${other}rl:request:`), key);
        assert.ok(!key.includes('erin'), 'the username is hashed');
        const ttl = await client.pTTL(key);
        assert.ok(ttl > 0 && ttl <= 2_000, `expires once full again, got ${ttl} ms`);
      } finally {
        await client.close();
      }
    } finally {
      await s.close();
      await deleteKeys(SHARED_REDIS_URL, other);
    }
  });
});

describe('Redis token buckets when Redis is down', () => {
  test('fail closed at once with RateLimitUnavailableError, and work again after Redis is back, without a new connection', async () => {
    const redis = await PrivateRedis.start();
    const state = await open(redis.url, testPrefix(), 300);
    try {
      const buckets = state.buckets('request', 100, 100);
      assert.equal(await buckets.tryTake('frank'), 0);
      assert.equal(state.ready(), true);
      await redis.stop();
      const started = Date.now();
      await assert.rejects(buckets.tryTake('frank'), RateLimitUnavailableError);
      assert.ok(Date.now() - started < 1_000, `fails fast (${Date.now() - started} ms)`);
      assert.equal(state.ready(), false);
      await redis.restart();
      const deadline = Date.now() + 5_000;
      while (!state.ready() && Date.now() < deadline) await sleep(50);
      assert.equal(state.ready(), true, 'reconnected');
      assert.equal(await buckets.tryTake('frank'), 0);
    } finally {
      await state.close();
      await redis.stop();
    }
  });
});

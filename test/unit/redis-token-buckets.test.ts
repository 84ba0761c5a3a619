import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventChannel, type ChangeEvents } from '../../src/ports/invalidation.js';
import { RateLimitUnavailableError } from '../../src/ports/rate-limit.js';
import { openRedisSharedState, type RedisSharedState } from '../../src/redis/shared-state.js';
import { countKeys, deleteKeys, PrivateRedis, SHARED_REDIS_URL, testPrefix } from '../helpers/redis.js';

/** The Redis token bucket (src/redis/connection.ts's Lua script) against a real Redis. */

const masterKey = randomBytes(32);

function open(url: string, prefix: string, timeoutMs = 500, receive = false, bus = new EventChannel<ChangeEvents>()): Promise<RedisSharedState> {
  return openRedisSharedState({ url, prefix, timeoutMs, masterKey, bus, receive, warn: () => undefined });
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

  test('a cost takes that many tokens (a batch: one per item); a cost above the burst is taken from a full bucket, which then owes the rest', async () => {
    const buckets = a.buckets('request', 1, 5);
    assert.equal(await buckets.tryTake('grace', 3), 0);
    assert.equal(await buckets.tryTake('grace', 3), 1, 'two tokens left of five: the third comes in a second');
    assert.equal(await buckets.tryTake('grace', 2), 0, 'the two left');
    assert.equal(await buckets.tryTake('grace'), 1);

    assert.equal(await buckets.tryTake('heidi', 12), 0, 'from a full bucket of five');
    const wait = await buckets.tryTake('heidi');
    assert.ok(wait >= 7 && wait <= 8, `owes seven tokens, and one more for this take at 1/s: ${wait} s`);
    assert.equal(await b.buckets('request', 1, 5).tryTake('heidi', 1), wait, 'the same bucket on another connection');
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

describe('invalidations over Redis pub/sub', () => {
  test("a change emitted on one process's bus reaches the other's as remote, once, and the subscription stays live", { timeout: 20_000 }, async () => {
    const prefix = testPrefix();
    const busA = new EventChannel<ChangeEvents>();
    const busB = new EventChannel<ChangeEvents>();
    const options = { url: SHARED_REDIS_URL, prefix, timeoutMs: 500, masterKey, receive: true, warn: () => undefined };
    const a = await openRedisSharedState({ ...options, bus: busA });
    const b = await openRedisSharedState({ ...options, bus: busB });
    try {
      const onA: string[] = [];
      const onB: string[] = [];
      busA.onAny((event, origin) => onA.push(`${event.type}/${origin}`));
      busB.onAny((event, origin) => onB.push(`${event.type}/${origin}`));
      busA.emit({ type: 'keys-rotated', orgId: 'org-1' });
      const deadline = Date.now() + 1_000;
      while (onB.length === 0 && Date.now() < deadline) await sleep(10);
      await sleep(100);
      assert.deepEqual(onB, ['keys-rotated/remote']);
      assert.deepEqual(onA, ['keys-rotated/local'], 'not echoed back');
      await sleep(4_500);
      assert.equal(b.subscriptionLive(), true, 'PINGs keep it live');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('Redis token buckets when Redis is down', () => {
  test('fail closed at once with RateLimitUnavailableError, and work again after Redis is back, without a new connection', async () => {
    const redis = await PrivateRedis.start();
    const prefix = testPrefix();
    const bus = new EventChannel<ChangeEvents>();
    const received: string[] = [];
    bus.on('user-changed', (event, origin) => received.push(`${event.userId}/${origin}`));
    const state = await open(redis.url, prefix, 300, true, bus);
    try {
      const buckets = state.buckets('request', 100, 100);
      assert.equal(await buckets.tryTake('frank'), 0);
      assert.equal(state.ready(), true);
      assert.equal(state.subscriptionLive(), true);
      await redis.stop();
      const started = Date.now();
      await assert.rejects(buckets.tryTake('frank'), RateLimitUnavailableError);
      assert.ok(Date.now() - started < 1_000, `fails fast (${Date.now() - started} ms)`);
      assert.equal(state.ready(), false);
      assert.equal(state.subscriptionLive(), false, 'caches are bypassed: invalidations could be missed');
      await redis.restart();
      const deadline = Date.now() + 5_000;
      while (!state.ready() && Date.now() < deadline) await sleep(50);
      assert.equal(state.ready(), true, 'reconnected');
      assert.equal(state.subscriptionLive(), true, 'resubscribed');
      const otherBus = new EventChannel<ChangeEvents>();
      const other = await open(redis.url, prefix, 300, false, otherBus);
      otherBus.emit({ type: 'user-changed', userId: 'after-restart' });
      await other.close();
      const until = Date.now() + 1_000;
      while (received.length === 0 && Date.now() < until) await sleep(10);
      assert.deepEqual(received, ['after-restart/remote'], 'changes published after the restart arrive');
      assert.equal(await buckets.tryTake('frank'), 0);
    } finally {
      await state.close();
      await redis.stop();
    }
  });
});

describe('Redis reachable but slow (a proxy that stops passing replies)', () => {
  const prefix = testPrefix();
  let stalled = false;
  const held: (() => void)[] = [];
  const proxy = createServer((client) => {
    const upstream = connect(new URL(SHARED_REDIS_URL).port ? Number(new URL(SHARED_REDIS_URL).port) : 6379, new URL(SHARED_REDIS_URL).hostname);
    // Replies are held back while stalled: Redis answers, the client never hears it in time.
    upstream.on('data', (d) => (stalled ? held.push(() => client.write(d)) : client.write(d)));
    client.on('data', (d) => upstream.write(d));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  let state: RedisSharedState;
  before(async () => {
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    state = await open(`redis://127.0.0.1:${port}`, prefix, 200);
  });
  after(async () => {
    stalled = false;
    for (const release of held.splice(0)) release();
    await state.close();
    await new Promise((resolve) => proxy.close(resolve));
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  test('a take whose reply does not come within the timeout fails with RateLimitUnavailableError (fail closed, not held)', async () => {
    const buckets = state.buckets('request', 10, 10);
    assert.equal(await buckets.tryTake('dave'), 0, 'served while Redis answers');
    stalled = true;
    const started = Date.now();
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => buckets.tryTake('dave')));
    const elapsed = Date.now() - started;
    assert.ok(
      outcomes.every((o) => o.status === 'rejected' && o.reason instanceof RateLimitUnavailableError),
      JSON.stringify(outcomes.map((o) => o.status)),
    );
    assert.ok(elapsed < 2_000, `refused after ${elapsed} ms (timeout 200 ms)`);
  });
});

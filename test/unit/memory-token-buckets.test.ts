import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryTokenBuckets } from '../../src/memory/rate-limiter.js';

/** The in-process token buckets (src/memory/rate-limiter.ts) on a clock the test moves. */

describe('in-memory token buckets', () => {
  test('a cost takes that many tokens (a batch: one per item), and waits for as many', async () => {
    let now = 0;
    const buckets = new InMemoryTokenBuckets(1, 5, () => now);
    assert.equal(await buckets.tryTake('grace', 3), 0);
    assert.equal(await buckets.tryTake('grace', 3), 1, 'two left of five: the third comes in a second');
    assert.equal(await buckets.tryTake('grace', 2), 0, 'the two left');
    assert.equal(await buckets.tryTake('grace'), 1);
    now += 3000;
    assert.equal(await buckets.tryTake('grace', 4), 1, 'three back after 3 s at 1/s: the fourth in one more second');
    now += 1000;
    assert.equal(await buckets.tryTake('grace', 4), 0);
  });

  test('a cost above the burst is taken from a full bucket only, which then owes the rest', async () => {
    let now = 0;
    const buckets = new InMemoryTokenBuckets(2, 5, () => now);
    assert.equal(await buckets.tryTake('heidi', 1), 0);
    assert.equal(await buckets.tryTake('heidi', 12), 1, 'not full: waits for the bucket to be full (one token at 2/s: 0.5 s, rounded up)');
    now += 500;
    assert.equal(await buckets.tryTake('heidi', 12), 0, 'full again: taken, 7 owed');
    assert.equal(await buckets.tryTake('heidi'), 4, '(1 + 7) tokens at 2/s');
    now += 4000;
    assert.equal(await buckets.tryTake('heidi'), 0, 'the debt paid off at the rate');
  });
});

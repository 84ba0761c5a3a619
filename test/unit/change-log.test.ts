import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheTrustSignals } from '../../src/memory/cache-trust.js';
import { TtlCache } from '../../src/memory/ttl-cache.js';
import { recordChange } from '../../src/ports/change-log.js';
import type { ChangeEvent } from '../../src/ports/invalidation.js';
import { inTransaction, type Store } from '../../src/ports/store.js';
import { ChangeLogPoller } from '../../src/store/change-log-poller.js';
import { openStore } from '../../src/store/database.js';
import { tempDir } from '../helpers/server.js';

/** The store's change log and its poller (src/store/change-log-poller.ts) on a real SQLite store. */

describe('change log', () => {
  let store: Store;
  let clock = 1_000_000;
  const now = (): number => clock;
  const delivered: ChangeEvent[] = [];
  let poller: ChangeLogPoller;

  before(async () => {
    store = await openStore({ dataDir: tempDir() });
    // Older than the gap grace (60 s) when the poller starts: never delivered.
    await inTransaction(store, (trx) => recordChange(trx, { type: 'user-changed', userId: 'before-start' }, clock - 60_001));
    poller = new ChangeLogPoller(store.db, (event) => delivered.push(event), { intervalMs: 60_000, now });
    await poller.start();
  });
  after(async () => {
    await poller.stop();
    await store.close();
  });

  test('delivers each committed change once, in order, and nothing from before the start', async () => {
    await inTransaction(store, async (trx) => {
      await recordChange(trx, { type: 'credentials-revoked', credentialId: 'cred-1' }, clock);
      await recordChange(trx, { type: 'keys-rotated', orgId: 'org-1' }, clock);
    });
    await poller.poll();
    await poller.poll();
    assert.deepEqual(delivered.splice(0), [
      { type: 'credentials-revoked', credentialId: 'cred-1' },
      { type: 'keys-rotated', orgId: 'org-1' },
    ]);
  });

  test('a change numbered before the start but committed after it (in flight at the start) is delivered', async () => {
    const top = Number(
      (
        await store.db
          .selectFrom('changes')
          .select((eb) => eb.fn.max('seq').as('m'))
          .executeTakeFirstOrThrow()
      ).m,
    );
    // Another process numbered top+1 and is still in flight while top+2 commits; then a poller starts.
    await store.db
      .insertInto('changes')
      .values({ seq: top + 2, kind: 'user-changed', subject: 'committed-before-start', at: clock })
      .execute();
    const seen: ChangeEvent[] = [];
    const late = new ChangeLogPoller(store.db, (event) => seen.push(event), { intervalMs: 60_000, now });
    await late.start();
    await store.db
      .insertInto('changes')
      .values({ seq: top + 1, kind: 'user-changed', subject: 'in-flight-at-start', at: clock })
      .execute();
    await late.poll();
    await late.stop();
    // The suite's own poller sees both too; clear them for the tests that follow.
    await poller.poll();
    delivered.splice(0);
    assert.ok(
      seen.some((e) => e.type === 'user-changed' && e.userId === 'in-flight-at-start'),
      JSON.stringify(seen),
    );
  });

  test('a change rolled back with its transaction is never delivered', async () => {
    await assert.rejects(
      inTransaction(store, async (trx) => {
        await recordChange(trx, { type: 'user-changed', userId: 'rolled-back' }, clock);
        throw new Error('the change failed');
      }),
      /the change failed/,
    );
    await poller.poll();
    assert.deepEqual(delivered.splice(0), []);
  });

  test('a number committed late (below one already seen) is still delivered; a gap that never fills is skipped after its grace', async () => {
    const top = Number(
      (
        await store.db
          .selectFrom('changes')
          .select((eb) => eb.fn.max('seq').as('m'))
          .executeTakeFirstOrThrow()
      ).m,
    );
    // What PostgreSQL can do: seq top+2 commits while top+1 is still in flight.
    await store.db
      .insertInto('changes')
      .values({ seq: top + 2, kind: 'user-changed', subject: 'second', at: clock })
      .execute();
    await poller.poll();
    await store.db
      .insertInto('changes')
      .values({ seq: top + 1, kind: 'user-changed', subject: 'first-late', at: clock })
      .execute();
    await poller.poll();
    assert.deepEqual(
      delivered.splice(0).map((e) => e.type === 'user-changed' && e.userId),
      ['second', 'first-late'],
    );

    await store.db
      .insertInto('changes')
      .values({ seq: top + 5, kind: 'user-changed', subject: 'after-a-gap', at: clock })
      .execute();
    await poller.poll();
    clock += 60_001;
    await poller.poll();
    await store.db
      .insertInto('changes')
      .values({ seq: top + 6, kind: 'user-changed', subject: 'next', at: clock })
      .execute();
    await poller.poll();
    assert.deepEqual(
      delivered.splice(0).map((e) => e.type === 'user-changed' && e.userId),
      ['after-a-gap', 'next'],
    );
  });

  test('rows past the retention are pruned, at most once a minute', async () => {
    const count = async (): Promise<number> =>
      Number(
        (
          await store.db
            .selectFrom('changes')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.ok((await count()) > 0);
    clock += 11 * 60_000;
    await poller.poll();
    assert.equal(await count(), 0);
  });

  test('unknown kinds and malformed subjects are ignored', async () => {
    await store.db.insertInto('changes').values({ kind: 'something-else', subject: 'x', at: clock }).execute();
    await store.db.insertInto('changes').values({ kind: 'user-changed', subject: 'has space', at: clock }).execute();
    await poller.poll();
    assert.deepEqual(delivered.splice(0), []);
  });
});

describe('cache trust follows the change-log poll', () => {
  test('a failing poll makes caches miss, and what they held before is never served again', async () => {
    const store = await openStore({ dataDir: tempDir() });
    const poller = new ChangeLogPoller(store.db, () => undefined, { intervalMs: 60_000 });
    await poller.start();
    const trust = new CacheTrustSignals([() => poller.healthy()]);
    const cache = new TtlCache<string>(60_000, 10, Date.now, trust);
    cache.set('k', 'v');
    assert.equal(cache.get('k'), 'v');

    await store.close();
    await poller.poll();
    assert.equal(poller.healthy(), false);
    assert.equal(cache.get('k'), undefined, 'bypassed while invalidations may be missed');
    cache.set('k', 'set while untrusted');
    assert.equal(cache.get('k'), undefined, 'nothing is cached meanwhile');

    await poller.stop();
  });

  test('an outage nobody read the cache during still retires what was cached before it', async () => {
    const source = { ok: true };
    const trust = new CacheTrustSignals([() => source.ok]);
    trust.watch(10);
    try {
      const cache = new TtlCache<string>(60_000, 10, Date.now, trust);
      cache.set('a', 'cached while trusted');
      source.ok = false;
      await sleep(50);
      source.ok = true;
      assert.equal(cache.get('a'), undefined, 'an entry from before the loss of trust is gone');
      cache.set('a', 'cached after');
      assert.equal(cache.get('a'), 'cached after');
    } finally {
      trust.stop();
    }
  });
});

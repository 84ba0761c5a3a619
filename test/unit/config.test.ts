import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('configuration: boolean variables and the demo organisation', () => {
  test('PQSEAL_DEMO accepts true/false/1/0/yes/no in any case', () => {
    for (const yes of ['true', 'TRUE', '1', 'yes', 'Yes']) assert.equal(loadConfig({ PQSEAL_DEMO: yes }).demo, true, yes);
    for (const no of ['false', 'False', '0', 'no', 'NO']) assert.equal(loadConfig({ PQSEAL_DEMO: no }).demo, false, no);
  });

  test('anything else is a ConfigError naming the variable', () => {
    for (const bad of ['ja', 'off', '2', 'truee']) {
      assert.throws(
        () => loadConfig({ PQSEAL_DEMO: bad }),
        (e: unknown) => e instanceof ConfigError && e.message.includes('PQSEAL_DEMO') && e.message.includes(bad),
      );
    }
    assert.throws(
      () => loadConfig({ PQSEAL_BENCH_ROUTES: 'maybe' }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('PQSEAL_BENCH_ROUTES'),
    );
  });

  test('the demo is on by default, off by default under NODE_ENV=production unless PQSEAL_DEMO asks for it', () => {
    assert.equal(loadConfig({}).demo, true);
    assert.equal(loadConfig({ NODE_ENV: 'development' }).demo, true);
    assert.equal(loadConfig({ NODE_ENV: 'production' }).demo, false);
    assert.equal(loadConfig({ NODE_ENV: 'production', PQSEAL_DEMO: 'yes' }).demo, true);
    assert.equal(loadConfig({ NODE_ENV: 'production', PQSEAL_DEMO: '' }).demo, false);
    assert.equal(loadConfig({ NODE_ENV: 'production' }).production, true);
    assert.equal(loadConfig({}).production, false);
  });

  test('PQSEAL_BENCH_ROUTES takes the same words', () => {
    assert.equal(loadConfig({ PQSEAL_BENCH_ROUTES: '1' }).benchRoutes, true);
    assert.equal(loadConfig({ PQSEAL_BENCH_ROUTES: 'no' }).benchRoutes, false);
    assert.equal(loadConfig({}).benchRoutes, false);
  });
});

describe('configuration: batch limits', () => {
  test('PQSEAL_BATCH_MAX_ITEMS defaults to 1000, PQSEAL_BATCH_MAX_BYTES to the body limit (and follows it)', () => {
    const defaults = loadConfig({});
    assert.equal(defaults.batchMaxItems, 1000);
    assert.equal(defaults.batchMaxBytes, defaults.bodyLimitBytes);
    assert.equal(loadConfig({ PQSEAL_BODY_LIMIT: '65536' }).batchMaxBytes, 65536);
    assert.equal(loadConfig({}, { bodyLimitBytes: 1024 }).batchMaxBytes, 1024);
    const set = loadConfig({ PQSEAL_BATCH_MAX_ITEMS: '10', PQSEAL_BATCH_MAX_BYTES: '2048' });
    assert.deepEqual([set.batchMaxItems, set.batchMaxBytes], [10, 2048]);
  });

  test('0, or more bytes than the body limit (which would never apply), is a ConfigError naming the variable', () => {
    assert.throws(
      () => loadConfig({ PQSEAL_BATCH_MAX_ITEMS: '0' }),
      (e: Error) => e instanceof ConfigError && /PQSEAL_BATCH_MAX_ITEMS/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ PQSEAL_BATCH_MAX_BYTES: '0' }),
      (e: Error) => e instanceof ConfigError && /PQSEAL_BATCH_MAX_BYTES/.test(e.message),
    );
    assert.throws(
      () => loadConfig({ PQSEAL_BODY_LIMIT: '1000', PQSEAL_BATCH_MAX_BYTES: '1001' }),
      (e: Error) => e instanceof ConfigError && /PQSEAL_BATCH_MAX_BYTES must not exceed PQSEAL_BODY_LIMIT/.test(e.message),
    );
  });
});

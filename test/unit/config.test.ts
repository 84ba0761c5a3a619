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

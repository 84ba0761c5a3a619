import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { checkReadiness } from '../../src/ports/readiness.js';

describe('PQSEAL_PROCESSES, PQSEAL_TRUST_PROXY and the metrics settings', () => {
  test('processes default to 1, "auto" to the cores; each process takes its share of the cores for crypto', () => {
    const cores = availableParallelism();
    assert.equal(loadConfig({}).processes, 1);
    assert.equal(loadConfig({}).workers, cores);
    assert.equal(loadConfig({ PQSEAL_PROCESSES: 'auto' }).processes, cores);
    assert.equal(loadConfig({ PQSEAL_PROCESSES: 'auto' }).workers, 1);
    assert.equal(loadConfig({ PQSEAL_PROCESSES: String(cores * 4) }).workers, 1, 'at least one thread each');
    assert.equal(loadConfig({ PQSEAL_PROCESSES: '2', PQSEAL_WORKERS: '3' }).workers, 3, 'an explicit PQSEAL_WORKERS wins');
    assert.throws(() => loadConfig({ PQSEAL_PROCESSES: '0' }), ConfigError);
    assert.throws(() => loadConfig({ PQSEAL_PROCESSES: 'many' }), ConfigError);
  });

  test('trust proxy: false by default; true, a hop count, or a list of addresses and CIDRs; anything else refused', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ PQSEAL_TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ PQSEAL_TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ PQSEAL_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ PQSEAL_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1, fd00::/8' }).trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
    for (const bad of ['yes please', '10.0.0.0/33', 'loopback', '1.2.3.4/8/9', 'fd00::/129']) {
      assert.throws(() => loadConfig({ PQSEAL_TRUST_PROXY: bad }), ConfigError, bad);
    }
  });

  test('metrics: on the public port for this host by default; a port of their own; public only when asked', () => {
    assert.equal(loadConfig({}).metricsPort, undefined);
    assert.equal(loadConfig({ PQSEAL_METRICS_PORT: '9464' }).metricsPort, 9464);
    assert.equal(loadConfig({}).metricsPublic, false);
    assert.equal(loadConfig({ PQSEAL_METRICS_PUBLIC: 'true' }).metricsPublic, true);
    assert.throws(() => loadConfig({ PQSEAL_METRICS_PORT: 'x' }), ConfigError);
  });
});

describe('readiness checks compose', () => {
  test('ready when every check passes; else the first failing check names the code, and a throwing check fails', async () => {
    const pass = { name: 'store', code: 'STORE_UNAVAILABLE' as const, ready: async () => true };
    assert.deepEqual(await checkReadiness([pass]), { ready: true });
    assert.deepEqual(await checkReadiness([]), { ready: true });
    const down = { name: 'redis', code: 'SERVICE_BUSY' as const, ready: async () => false };
    const throws = { name: 'other', code: 'STORE_UNAVAILABLE' as const, ready: async (): Promise<boolean> => Promise.reject(new Error('boom')) };
    assert.deepEqual(await checkReadiness([pass, down, throws]), { ready: false, code: 'SERVICE_BUSY', failing: ['redis', 'other'] });
  });
});

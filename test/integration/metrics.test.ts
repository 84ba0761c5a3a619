import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { after, describe, test } from 'node:test';
import { login, managedHeaders, post, registerSecret, startTestServer, type TestServer } from '../helpers/server.js';
import { scrape, total } from '../helpers/prometheus-text.js';

/**
 * GET /metrics over real HTTP: Prometheus text with every name prefixed `pqseal_`, requests by route
 * pattern (never the raw URL), the crypto, audit, cache and store instruments fed by real requests,
 * refusals counted, nothing secret or per-user in it, and who may read it.
 */

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.stop();
});

async function serve(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startTestServer({}, env);
  servers.push(s);
  return s;
}

describe('GET /metrics', () => {
  test('serves every instrument with the pqseal_ prefix, labelled by route pattern and status, with no secret, user, organisation or raw URL in it', async () => {
    const server = await serve();
    const org = await server.createOrg('Metrics Org');
    const headers = managedHeaders(org);
    const sealed = await post(`${server.url}/v1/sign-encrypt`, headers, { data: 'metrics plaintext 42' });
    assert.equal(sealed.status, 200);
    registerSecret('metrics plaintext 42');
    // The second Managed request finds the login in its cache.
    const opened = await post(`${server.url}/v1/decrypt-verify`, headers, { encrypted_data: sealed.json.body.encrypted_data });
    assert.equal(opened.status, 200);
    const token = await login(server.url, org);
    registerSecret(token.IdToken, token.AccessToken, token.RefreshToken);
    const probe = `/no-such-route-${randomUUID()}`;
    assert.equal((await fetch(`${server.url}${probe}?q=1`)).status, 404);
    assert.equal((await fetch(`${server.url}/keys/${org.org_id}`)).status, 200);

    const { status, contentType, text, samples } = await scrape(`${server.url}/metrics`);
    assert.equal(status, 200);
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    for (const s of samples) assert.ok(s.name.startsWith('pqseal_'), `${s.name} lacks the prefix`);

    assert.equal(total(samples, 'pqseal_http_requests_total', { route: '/v1/sign-encrypt', method: 'POST', status: '200' }), 1);
    assert.equal(total(samples, 'pqseal_http_requests_total', { route: '/v1/decrypt-verify', method: 'POST', status: '200' }), 1);
    assert.equal(total(samples, 'pqseal_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    assert.equal(total(samples, 'pqseal_http_requests_total', { route: '/keys/:orgId', status: '200' }), 1, 'a path parameter is labelled by its pattern');
    assert.equal(total(samples, 'pqseal_http_request_duration_seconds_count', { route: '/v1/sign-encrypt' }), 1);

    assert.equal(total(samples, 'pqseal_crypto_task_seconds_count', { op: 'seal', outcome: 'ok' }), 1);
    assert.equal(total(samples, 'pqseal_crypto_task_seconds_count', { op: 'open', outcome: 'ok' }), 1);
    assert.ok(
      samples.some((s) => s.name === 'pqseal_crypto_queue_depth'),
      'crypto queue depth',
    );
    assert.ok(total(samples, 'pqseal_audit_batch_size_count') >= 1, 'audit batches');
    assert.ok(total(samples, 'pqseal_audit_commit_seconds_count', { outcome: 'ok' }) >= 1, 'audit commits');
    assert.ok(total(samples, 'pqseal_cache_lookups_total', { cache: 'login', result: 'hit' }) >= 1, 'the second Managed request hit the login cache');
    assert.ok(total(samples, 'pqseal_cache_lookups_total', { cache: 'login', result: 'miss' }) >= 1);
    assert.ok(total(samples, 'pqseal_store_query_seconds_count', { kind: 'select', outcome: 'ok' }) >= 1, 'store queries');
    assert.ok(
      samples.some((s) => s.name === 'pqseal_process_cpu_user_seconds_total'),
      'the process metrics, prefixed',
    );
    assert.ok(
      samples.some((s) => s.name === 'pqseal_nodejs_eventloop_lag_p99_seconds'),
      'event loop lag',
    );

    // Bounded cardinality: every route label is a registered pattern or `unmatched`.
    const routes = new Set(samples.filter((s) => s.labels.route !== undefined).map((s) => s.labels.route));
    assert.ok(!routes.has(probe) && ![...routes].some((r) => r?.includes('no-such-route')), 'an unknown URL creates no label value');
    assert.ok(![...routes].some((r) => r?.includes(org.org_id)), 'no organisation in a route label');
    for (const secret of [org.password, org.secret_key, org.api_key, org.access_key, org.username, org.org_id, token.IdToken, 'metrics plaintext 42']) {
      assert.ok(!text.includes(secret), 'nothing secret or per-user or per-organisation in the metrics');
    }
  });

  test('rate-limit and load-shedding refusals are counted by code', async () => {
    const server = await serve({ PQSEAL_RATE_LIMIT_RPS: '1', PQSEAL_RATE_LIMIT_BURST: '2' });
    const org = await server.createOrg('Limited Metrics Org');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(`${server.url}/v1/encrypt`, managedHeaders(org), { data: 'x' })).status);
    const refused = statuses.filter((s) => s === 429).length;
    assert.ok(refused >= 2, `statuses ${statuses.join(',')}`);
    const { samples } = await scrape(`${server.url}/metrics`);
    assert.equal(total(samples, 'pqseal_refusals_total', { code: 'RATE_LIMITED' }), refused);
    assert.equal(total(samples, 'pqseal_http_requests_total', { route: '/v1/encrypt', status: '429' }), refused);
  });

  test('on the public port only for a caller on this host that did not come through a proxy, unless PQSEAL_METRICS_PUBLIC', async () => {
    const server = await serve();
    assert.equal((await scrape(`${server.url}/metrics`)).status, 200);
    const proxied = await scrape(`${server.url}/metrics`, { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(proxied.status, 404, 'through a proxy on this host: refused like an unknown route');
    assert.equal(JSON.parse(proxied.text).code, 'NOT_FOUND');
    assert.equal((await scrape(`${server.url}/metrics`, { forwarded: 'for=203.0.113.9' })).status, 404);

    const open = await serve({ PQSEAL_METRICS_PUBLIC: 'true' });
    assert.equal((await scrape(`${open.url}/metrics`, { 'x-forwarded-for': '203.0.113.9' })).status, 200);
  });

  test('a caller on another host is refused', async (t) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) return t.skip('this machine has no non-loopback IPv4 address to connect from');
    const server = await startTestServer({ host: '0.0.0.0' });
    servers.push(server);
    const port = new URL(server.url).port;
    assert.equal((await scrape(`http://${external}:${port}/metrics`)).status, 404);
    assert.equal((await scrape(`http://127.0.0.1:${port}/metrics`)).status, 200);
  });

  test('PQSEAL_METRICS_PORT serves /metrics on its own port, and the public port no longer has it', async () => {
    const server = await serve({ PQSEAL_METRICS_PORT: '0' });
    assert.ok(server.metricsUrl, 'the metrics listener is up');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const scraped = await scrape(server.metricsUrl);
    assert.equal(scraped.status, 200);
    assert.equal(total(scraped.samples, 'pqseal_http_requests_total', { route: '/healthz', status: '200' }), 1);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    assert.equal((await fetch(server.metricsUrl.replace('/metrics', '/other'))).status, 404);
  });
});

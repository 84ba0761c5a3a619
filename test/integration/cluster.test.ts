import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort, freshConnectionPost, logRecords, spawnServe, type ServeProcess } from '../helpers/cluster.js';
import { scrape, total } from '../helpers/prometheus-text.js';
import { registerSecret } from '../helpers/server.js';

/**
 * PQSEAL_PROCESSES=N: `pqseal serve` as a real cluster of processes on one port, over HTTP. The first
 * start prepares DATA_DIR once (one demo banner), connections land on every process, a worker killed
 * with -9 is replaced while the others serve, SIGTERM drains, the audit chain verifies after
 * concurrent load through all processes, and in-memory limits are split between the processes.
 */

const run = promisify(execFile);
const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;
const running: ServeProcess[] = [];
after(async () => {
  for (const p of running) await p.stop('SIGKILL');
});

async function cluster(env: Record<string, string>, options: { port?: number } = {}): Promise<ServeProcess> {
  const p = await spawnServe({ PQSEAL_PROCESSES: '2', ...env }, options);
  running.push(p);
  return p;
}

const listening = (line: string) => line.includes('"msg":"server process listening"');

function listeningPids(p: ServeProcess): Map<number, number> {
  const pids = new Map<number, number>();
  for (const r of logRecords(p.output)) if (r.msg === 'server process listening') pids.set(Number(r.process), Number(r.workerPid));
  return pids;
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The demo organisation's credentials, read back from the one banner. */
function demoCredentials(output: readonly string[]): Record<string, string> {
  const field = (name: string) => {
    const line = output.find((l) => l.trim().startsWith(`${name}:`));
    assert.ok(line, `banner has ${name}`);
    return line
      .trim()
      .slice(name.length + 1)
      .trim();
  };
  const creds = {
    username: field('username'),
    password: field('password'),
    api_key: field('api_key'),
    access_key: field('access_key'),
    secret_key: field('secret_key'),
  };
  registerSecret(creds.password, creds.secret_key);
  return creds;
}

describe('PQSEAL_PROCESSES=2 on SQLite', () => {
  test('one banner, requests on both processes, a killed worker replaced, audit verifies after concurrent load, SIGTERM drains', async () => {
    const p = await cluster({ PQSEAL_DEMO: 'true' });
    await p.waitForLine(listening);
    await waitUntil(() => listeningPids(p).size === 2, 60_000, 'two processes listening');
    const banners = p.output.filter((l) => l.includes('pqseal: created the demo organisation'));
    assert.equal(banners.length, 1, 'the demo organisation is created and shown once, by the primary');
    const headers = demoCredentials(p.output);

    // Concurrent load through the cluster: every request a connection of its own.
    const load = async (n: number) => {
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => freshConnectionPost(`${p.url}/v1/sign-encrypt`, headers, { data: `cluster load ${i}` })),
      );
      return results.map((r) => r.status);
    };
    assert.deepEqual(
      (await load(24)).filter((s) => s !== 200),
      [],
    );
    const metrics = await scrape(`${p.url}/metrics`);
    assert.equal(metrics.status, 200);
    const perProcess = [0, 1].map((i) => total(metrics.samples, 'pqseal_process_requests_total', { process: String(i) }));
    assert.ok(
      perProcess.every((n) => n >= 4),
      `both processes answered (per process: ${perProcess.join(', ')})`,
    );
    assert.equal(total(metrics.samples, 'pqseal_http_requests_total', { route: '/v1/sign-encrypt', status: '200' }), 24, '/metrics sums every process');

    // kill -9 one worker: the other keeps serving, the primary starts a new one in its place.
    const before = listeningPids(p);
    const victim = before.get(0) as number;
    process.kill(victim, 'SIGKILL');
    await p.waitForLine((l) => l.includes('server process died: restarting it') && l.includes(`"workerPid":${victim}`));
    assert.deepEqual(
      (await load(8)).filter((s) => s !== 200),
      [],
      'the surviving process serves while its peer is down',
    );
    await waitUntil(() => (listeningPids(p).get(0) ?? victim) !== victim, 30_000, 'a new process 0');
    assert.deepEqual(
      (await load(16)).filter((s) => s !== 200),
      [],
    );

    // SIGTERM once requests are in flight: what a process has received is answered (or, arriving while
    // it closes, refused with a clean 503); only connections no process had taken yet are reset.
    const drainIds = Array.from({ length: 12 }, (_, i) => `drain-${i}-${process.pid}`);
    const inFlight = Promise.all(
      drainIds.map((id) =>
        freshConnectionPost(`${p.url}/v1/sign-encrypt`, { ...headers, 'x-request-id': id }, { data: `drain ${id} ${'x'.repeat(512 * 1024)}` }).catch(
          (e: Error) => e,
        ),
      ),
    );
    await p.waitForLine((l) => l.includes('"msg":"incoming request"') && l.includes('"reqId":"drain-'));
    p.child.kill('SIGTERM');
    const answered = await inFlight;
    const code = await p.exited;
    assert.equal(code, 0, p.output.slice(-10).join('\n'));
    const received = new Set(
      logRecords(p.output)
        .filter((r) => r.msg === 'incoming request')
        .map((r) => String(r.reqId)),
    );
    const outcomes = drainIds.map((id, i) => {
      const r = answered[i];
      return { id, received: received.has(id), status: r instanceof Error ? r.message : r?.status };
    });
    assert.ok(outcomes.filter((o) => o.status === 200).length >= 1, JSON.stringify(outcomes));
    for (const o of outcomes) {
      if (o.received) assert.ok(o.status === 200 || o.status === 503, `a request a process received was answered: ${JSON.stringify(o)}`);
      else assert.equal(typeof o.status, 'string', `a request no process received cannot have an answer: ${JSON.stringify(o)}`);
    }
    assert.equal(logRecords(p.output).filter((r) => r.msg === 'shutting down: draining in-flight requests').length, 2);

    // One chain, no fork, every record in order, though two processes appended concurrently.
    const verify = await run(process.execPath, [CLI, 'audit', 'verify', '--json'], { env: { ...process.env, DATA_DIR: p.dataDir } });
    const report = JSON.parse(verify.stdout) as { ok?: boolean };
    assert.notEqual(report.ok, false, verify.stdout);
  });

  test('in-memory per-user limits are split between the processes; the primary serves the summed metrics on PQSEAL_METRICS_PORT', async () => {
    const metricsPort = await freePort();
    const p = await cluster({ PQSEAL_DEMO: 'true', PQSEAL_RATE_LIMIT_RPS: '1', PQSEAL_RATE_LIMIT_BURST: '4', PQSEAL_METRICS_PORT: String(metricsPort) });
    await waitUntil(() => listeningPids(p).size === 2, 60_000, 'two processes listening');
    const headers = demoCredentials(p.output);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await freshConnectionPost(`${p.url}/v1/encrypt`, headers, { data: 'x' })).status);
    const ok = statuses.filter((s) => s === 200).length;
    // Burst 4 split in two (2 each), plus at most a token or two refilled at 0.5/s per process meanwhile;
    // unsplit, both processes would grant 4 each and all ten would pass.
    assert.ok(ok >= 4 && ok <= 6, `statuses ${statuses.join(',')}`);
    assert.ok(statuses.includes(429));

    const scraped = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(scraped.status, 200);
    assert.equal(total(scraped.samples, 'pqseal_http_requests_total', { route: '/v1/encrypt' }), 10, 'every process counted');
    assert.equal(total(scraped.samples, 'pqseal_refusals_total', { code: 'RATE_LIMITED' }), 10 - ok);
    assert.ok(total(scraped.samples, 'pqseal_process_requests_total', { process: '0' }) >= 1);
    assert.ok(total(scraped.samples, 'pqseal_process_requests_total', { process: '1' }) >= 1);
    assert.equal((await fetch(`${p.url}/metrics`)).status, 404, 'not on the public port');
  });

  test('workers that keep failing at start make the primary give up with a non-zero exit', async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      const p = await cluster({ PQSEAL_DEMO: 'false' }, { port });
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 60_000)))]);
      clearTimeout(timer);
      assert.notEqual(code, 0);
      assert.notEqual(code, 'timeout', 'the primary gave up');
      assert.ok(p.output.some((l) => l.includes('keep failing at start')));
    } finally {
      squatter.close();
    }
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { measurePoint } from '../../bench/lib/load-run.js';

/**
 * The load benchmark's measurement point with `bodies`: every request takes the next body in turn,
 * across all connections, so a decrypt-verify scenario opens distinct envelopes rather than one
 * envelope a cache of verified signatures would answer from memory.
 */

/** Bodies received, by path: each test uses a path of its own (requests in flight when a point ends still arrive). */
const received = new Map<string, string[]>();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url ?? '';
    received.set(path, [...(received.get(path) ?? []), Buffer.concat(chunks).toString('utf8')]);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
let url = '';

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

test('a point with bodies sends them in turn across connections, each body whole', async () => {
  const bodies = Array.from({ length: 7 }, (_, i) => JSON.stringify({ encrypted_data: `envelope-${i}-${'x'.repeat(i * 100)}` }));
  const point = await measurePoint(url, { method: 'POST', path: '/rotating', headers: { 'content-type': 'application/json' }, bodies }, 3, 0.5);
  const got = received.get('/rotating') ?? [];
  assert.ok(point.ok >= bodies.length * 3, `${point.ok} requests answered`);
  assert.equal(point.non2xx, 0);
  for (const body of got) assert.ok(bodies.includes(body), `an unexpected body: ${body.slice(0, 80)}`);
  const counts = bodies.map((b) => got.filter((r) => r === b).length);
  // In turn: no body sent twice before every other body was sent once (± one per connection in flight).
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 3, `bodies sent ${JSON.stringify(counts)} times`);
});

test('the next point with the same bodies continues where the last one stopped', async () => {
  const bodies = Array.from({ length: 100_000 }, (_, i) => `{"n":${i}}`);
  await measurePoint(url, { method: 'POST', path: '/first', headers: { 'content-type': 'application/json' }, bodies }, 2, 0.3);
  await measurePoint(url, { method: 'POST', path: '/second', headers: { 'content-type': 'application/json' }, bodies }, 2, 0.3);
  const n = (path: string) => (received.get(path) ?? []).map((b) => (JSON.parse(b) as { n: number }).n);
  const first = n('/first');
  const second = n('/second');
  assert.ok(first.length > 0 && second.length > 0);
  // No body of the first point is sent again by the second (fewer than 100,000 requests in all).
  assert.ok(Math.min(...second) > Math.max(...first) - 2, `second point from ${Math.min(...second)}, first up to ${Math.max(...first)}`);
});

test('a point without bodies sends its one body every time', async () => {
  const point = await measurePoint(url, { method: 'POST', path: '/fixed', headers: { 'content-type': 'application/json' }, body: '{"data":"x"}' }, 2, 0.3);
  assert.ok(point.ok > 0);
  assert.deepEqual([...new Set(received.get('/fixed'))], ['{"data":"x"}']);
});

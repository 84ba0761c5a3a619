import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { REFERENCE_MAIN, ServerProcess, type ServerStats } from '../../bench/lib/load-server.js';
import { COMPOSITE_MLDSA65_ED25519 } from '../../src/crypto/composite-signature.js';
import { X_WING } from '../../src/crypto/x-wing.js';

/**
 * The load benchmark's per-request reference (bench/reference/): a process of its own, started the
 * way bench/load.ts starts it, answering a sign-encrypt body with KEM ciphertext ‖ AES-256-GCM(composite
 * signature ‖ payload) — proof that it really does the primitive work it stands for — and the
 * statistics routes the benchmark reads around each point.
 */

const AES_GCM_TAG_BYTES = 16;
let reference: ServerProcess;

before(async () => {
  reference = await ServerProcess.start({ workers: 2, command: [REFERENCE_MAIN] });
});

after(async () => {
  await reference?.stop();
});

async function signEncrypt(body: string): Promise<{ status: number; json: { encrypted_data?: string; error?: string } }> {
  const res = await fetch(`${reference.url}/sign-encrypt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: (await res.json()) as { encrypted_data?: string; error?: string } };
}

test('the reference answers a 1 KiB sign-encrypt with a fresh encapsulation, a composite signature and the sealed payload', async () => {
  const data = randomBytes(768).toString('base64url');
  const body = JSON.stringify({ data, requested_actions: ['s', 'e'] });
  const [a, b] = await Promise.all([signEncrypt(body), signEncrypt(body)]);
  for (const answer of [a, b]) {
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    const sealed = Buffer.from(answer.json.encrypted_data ?? '', 'base64url');
    assert.equal(sealed.length, X_WING.cipherTextLength + COMPOSITE_MLDSA65_ED25519.signatureLength + data.length + AES_GCM_TAG_BYTES);
  }
  const kem = (answer: typeof a) => Buffer.from(answer.json.encrypted_data ?? '', 'base64url').subarray(0, X_WING.cipherTextLength);
  assert.notDeepEqual(kem(a), kem(b), 'each request encapsulates afresh');
});

test('the reference refuses a body without data, and unknown routes', async () => {
  assert.equal((await signEncrypt(JSON.stringify({ encrypted_data: 'x' }))).status, 400);
  assert.equal((await signEncrypt('{not json')).status, 400);
  const res = await fetch(`${reference.url}/v1/sign-encrypt`, { method: 'POST', body: '{}' });
  await res.arrayBuffer();
  assert.equal(res.status, 404);
});

test("the reference reports its event-loop delay and its threads' kernel ids like the server", async () => {
  await signEncrypt(JSON.stringify({ data: 'x' }));
  const reset = await fetch(`${reference.url}/bench/stats/reset`, { method: 'POST' });
  await reset.arrayBuffer();
  assert.equal(reset.status, 200);
  const stats = await reference.stats();
  assert.equal(stats.threads?.main, reference.pid);
  // Linux: each worker thread registered its kernel id as it loaded the task module.
  if (process.platform === 'linux') {
    const ids = stats.threads?.crypto ?? [];
    assert.equal(ids.length, 2, JSON.stringify(stats.threads));
    for (const tid of ids) assert.ok(Number.isFinite(reference.threadCpuSeconds(tid)) && tid !== reference.pid);
  }
  const eld: ServerStats['eventLoopDelayMs'] = stats.eventLoopDelayMs;
  for (const field of ['p50', 'p99', 'max'] as const) assert.equal(typeof eld[field], 'number');
  assert.ok(stats.memory.rss > 0);
});

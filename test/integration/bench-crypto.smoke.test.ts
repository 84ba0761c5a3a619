import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/server.js';

/**
 * Smoke test for `npm run bench:crypto`: a very short run (0.05 s per operation) into a temporary
 * directory must exit 0 and write a JSON report with every expected measurement and positive
 * figures. It checks the harness, not the performance targets (too noisy at this length).
 */

const BENCH = fileURLToPath(new URL('../../bench/crypto.js', import.meta.url));

function run(outDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SECONDS: '0.05', BENCH_OUT_DIR: outDir };
  delete env.BENCH_ROUNDS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const EXPECTED_PRIMITIVES: readonly (readonly [string, string, readonly string[]])[] = [
  ['ML-DSA-65', 'sign', ['liboqs-wasm', 'noble-post-quantum']],
  ['ML-DSA-65', 'verify', ['liboqs-wasm', 'noble-post-quantum']],
  ['ML-KEM-768', 'encapsulate', ['liboqs-wasm', 'noble-post-quantum']],
  ['ML-KEM-768', 'decapsulate', ['liboqs-wasm', 'noble-post-quantum']],
  ['X-Wing', 'encapsulate', ['liboqs-wasm', 'noble-post-quantum']],
  ['X-Wing', 'decapsulate', ['liboqs-wasm', 'noble-post-quantum']],
  ['Composite ML-DSA-65+Ed25519', 'sign', ['liboqs-wasm', 'noble-post-quantum']],
  ['Composite ML-DSA-65+Ed25519', 'verify', ['liboqs-wasm', 'noble-post-quantum']],
  ['Ed25519', 'sign', ['node:crypto', '@noble/curves']],
  ['Ed25519', 'verify', ['node:crypto', '@noble/curves']],
  ['X25519', 'shared secret', ['node:crypto', '@noble/curves']],
  ['X25519', 'public key', ['node:crypto', '@noble/curves']],
  // @noble/ciphers is optional (only a transitive dependency), so only node:crypto is required here.
  ['AES-256-GCM', 'encrypt 1 KiB', ['node:crypto']],
  ['AES-256-GCM', 'decrypt 1 KiB', ['node:crypto']],
  ['AES-256-GCM', 'encrypt 1 MiB', ['node:crypto']],
  ['AES-256-GCM', 'decrypt 1 MiB', ['node:crypto']],
  ['SHA-512', 'hash 1 MiB', ['node:crypto', '@noble/hashes']],
  ['HKDF-SHA256', 'derive 44 B', ['node:crypto', '@noble/hashes']],
];

const EXPECTED_OPERATIONS = ['sign-encrypt', 'encrypt', 'decrypt', 'decrypt-verify'] as const;
const EXPECTED_TARGETS = ['sign-encrypt-1KiB', 'decrypt-verify-1KiB', 'sign-encrypt-1MiB'] as const;

interface Figures {
  opsPerSec: number;
  meanUs: number;
  totalOps: number;
}

function assertPositiveFigures(f: Figures, what: string): void {
  assert.ok(Number.isFinite(f.opsPerSec) && f.opsPerSec > 0, `${what}: ops/s ${f.opsPerSec}`);
  assert.ok(Number.isFinite(f.meanUs) && f.meanUs > 0, `${what}: µs/op ${f.meanUs}`);
  assert.ok(Number.isInteger(f.totalOps) && f.totalOps > 0, `${what}: ${f.totalOps} operations`);
}

test('bench:crypto runs briefly and writes a complete report', { timeout: 120_000 }, async () => {
  const outDir = tempDir('pqseal-bench-crypto-');
  try {
    const result = await run(outDir);
    assert.equal(result.signal, null, `killed by ${result.signal}\n${result.stderr}`);
    assert.equal(result.code, 0, `exit code ${result.code}\n${result.stderr}`);

    const files = readdirSync(outDir).sort();
    const jsonFiles = files.filter((f) => /^crypto-\d{4}-\d{2}-\d{2}\.json$/.test(f));
    assert.equal(jsonFiles.length, 1, `files written: ${files.join(', ')}`);
    assert.ok(files.includes('crypto-latest.md'), `files written: ${files.join(', ')}`);

    const report = JSON.parse(readFileSync(join(outDir, jsonFiles[0] as string), 'utf8'));
    assert.equal(report.schema, 'pqseal-bench-crypto/1');
    assert.equal(`crypto-${report.date}.json`, jsonFiles[0]);
    assert.equal(report.settings.secondsPerOp, 0.05);

    for (const [primitive, operation, impls] of EXPECTED_PRIMITIVES) {
      for (const impl of impls) {
        const row = report.primitives.find(
          (p: { primitive: string; operation: string; impl: string }) => p.primitive === primitive && p.operation === operation && p.impl === impl,
        );
        assert.ok(row, `missing primitive measurement: ${primitive} ${operation} ${impl}`);
        assertPositiveFigures(row, `${primitive} ${operation} ${impl}`);
      }
      assert.ok(
        report.winners.some((w: { primitive: string; operation: string }) => w.primitive === primitive && w.operation === operation),
        `no winner for ${primitive} ${operation}`,
      );
    }

    for (const operation of EXPECTED_OPERATIONS) {
      for (const payloadBytes of [1024, 1024 * 1024]) {
        const row = report.operations.find((o: { operation: string; payloadBytes: number }) => o.operation === operation && o.payloadBytes === payloadBytes);
        assert.ok(row, `missing whole operation: ${operation} ${payloadBytes}`);
        assert.equal(row.providers, 'fastest');
        assertPositiveFigures(row, `${operation} ${payloadBytes}`);
      }
    }

    assert.deepEqual(
      report.targets.map((t: { id: string }) => t.id),
      [...EXPECTED_TARGETS],
    );
    for (const t of report.targets) {
      assert.ok(Number.isFinite(t.value) && t.value > 0, `target ${t.id}: value ${t.value}`);
      assert.equal(typeof t.pass, 'boolean');
      assert.equal(t.perRound.length, report.settings.ratioRounds);
    }
    assert.equal(
      report.allTargetsPass,
      report.targets.every((t: { pass: boolean }) => t.pass),
    );

    const o = report.overhead;
    assert.ok(Number.isInteger(o.unsignedBytes) && o.unsignedBytes > 1120, `unsigned overhead ${o.unsignedBytes}`);
    assert.ok(Number.isInteger(o.signedBytes) && o.signedBytes > o.unsignedBytes + 3373, `signed overhead ${o.signedBytes}`);

    // The printed table carries the same content.
    assert.match(result.stdout, /ML-DSA-65\s+sign\s+liboqs-wasm/);
    assert.match(result.stdout, /decrypt-verify\s+1 KiB/);
    assert.equal(result.stdout.match(/\b(PASS|FAIL)\s*$/gm)?.length, EXPECTED_TARGETS.length);
    assert.match(readFileSync(join(outDir, 'crypto-latest.md'), 'utf8'), /^\| Primitive \| Operation \| Implementation \|/m);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

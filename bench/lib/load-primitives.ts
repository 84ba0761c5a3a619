/**
 * Raw primitive throughput without HTTP, for `bench/load.ts`: the primitive work of one sign-encrypt
 * (composite ML-DSA-65+Ed25519 sign + X-Wing encapsulation) and of one decrypt-verify (X-Wing
 * decapsulation + composite verify), exactly as the crypto-ceiling routes do it.
 *
 * Two figures per operation:
 *  - `pool`: the server's own CryptoPool (piscina, same number of threads), started in this process
 *    and kept saturated with ceiling tasks (two outstanding per thread) for a fixed time: what the
 *    worker threads can deliver including the thread hand-off, with no HTTP at all;
 *  - `singleThread × threads`: one thread's rate measured with the primitive benchmark's runner
 *    (bench/lib/crypto-measure.ts), times the thread count: the ideal with no hand-off and no
 *    contention for cores.
 */
import { randomBytes } from 'node:crypto';
import { CryptoPool } from '../../src/core/crypto-pool.js';
import { loadProviders } from '../../src/crypto/providers.js';
import { measureGroup } from './crypto-measure.js';
import { runCeiling, type CeilingOp } from '../server/ceiling.js';

export interface PrimitiveThroughput {
  readonly op: CeilingOp;
  /** What the operation consists of. */
  readonly work: string;
  readonly threads: number;
  /** Pool-measured operations per second (all threads). */
  readonly poolOpsPerSec: number;
  readonly poolSeconds: number;
  /** One thread's rate (crypto-measure runner). */
  readonly singleThreadOpsPerSec: number;
  /** singleThreadOpsPerSec × threads. */
  readonly idealOpsPerSec: number;
}

const WORK: Record<CeilingOp, string> = {
  'ceiling-seal': 'SHA-512 (1 KiB) + composite ML-DSA-65+Ed25519 sign + X-Wing encapsulate + HKDF + AES-256-GCM seal',
  'ceiling-open': 'X-Wing decapsulate + HKDF + AES-256-GCM open + SHA-512 (1 KiB) + composite ML-DSA-65+Ed25519 verify',
};

async function saturate(pool: CryptoPool, op: CeilingOp, seconds: number, outstanding: number): Promise<{ ops: number; seconds: number }> {
  // Warm up: every thread expands its ceiling keys on its first task.
  await Promise.all(Array.from({ length: outstanding * 2 }, () => runCeiling(pool, op, 1024)));
  let ops = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  const lane = async () => {
    while (process.hrtime.bigint() < end) {
      await runCeiling(pool, op, 1024);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: outstanding }, lane));
  return { ops, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

export async function measurePrimitives(threads: number, seconds: number, onProgress: (m: string) => void = () => undefined): Promise<PrimitiveThroughput[]> {
  const providers = await loadProviders('fastest');
  const sk = providers.composite.expandSecret(randomBytes(64));
  const vk = providers.composite.parsePublic(sk.publicKey);
  const kem = providers.xWing.expand(randomBytes(32));
  const pk = providers.xWing.publicKey(kem);
  const msg = randomBytes(1024);
  const ctx = new Uint8Array();
  const sig = providers.composite.sign(sk, msg, ctx);
  const ct = providers.xWing.encapsulate(pk).cipherText;
  if (!providers.composite.verify(vk, msg, sig, ctx)) throw new Error('composite verify failed');

  onProgress(`primitives: single thread, ${seconds} s per operation`);
  const single = measureGroup(
    [
      { id: 'ceiling-seal', run: () => [providers.composite.sign(sk, msg, ctx), providers.xWing.encapsulate(pk)] },
      { id: 'ceiling-open', run: () => [providers.xWing.decapsulate(ct, kem), providers.composite.verify(vk, msg, sig, ctx)] },
    ],
    { seconds, rounds: 1, sliceSeconds: Math.min(0.25, seconds), warmupSeconds: Math.min(0.3, seconds / 2) },
  );

  const pool = new CryptoPool({ masterKey: randomBytes(32), threads, maxQueue: threads * 64 });
  const results: PrimitiveThroughput[] = [];
  try {
    for (const op of ['ceiling-seal', 'ceiling-open'] as const) {
      onProgress(`primitives: ${op} on a pool of ${threads} thread(s), ${seconds} s`);
      const measured = await saturate(pool, op, seconds, threads * 2);
      const one = single.find((m) => m.id === op)?.opsPerSec ?? Number.NaN;
      results.push({
        op,
        work: WORK[op],
        threads,
        poolOpsPerSec: measured.ops / measured.seconds,
        poolSeconds: measured.seconds,
        singleThreadOpsPerSec: one,
        idealOpsPerSec: one * threads,
      });
    }
  } finally {
    await pool.close();
  }
  return results;
}

/**
 * `npm run bench:crypto`: single-thread throughput of every primitive per available implementation,
 * of the whole envelope operations with the 'fastest' providers, and the envelope's performance
 * targets as ratios measured in the same run.
 *
 *   BENCH_SECONDS   measured seconds per operation (per round for the interleaved groups); default 1.5
 *   BENCH_ROUNDS    interleaved rounds for the whole operations and target ratios; default 3
 *   BENCH_OUT_DIR   where results go; default bench/results (relative to the repository)
 *   --quick         0.3 s per operation unless BENCH_SECONDS says otherwise
 *   --strict        exit with status 2 when a target fails (default: report only, status 0)
 *
 * Writes `<out>/crypto-<YYYY-MM-DD>.json` (UTC date) and `<out>/crypto-latest.md`; the table goes
 * to stdout, progress to stderr.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519, x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { aesGcmOpen, aesGcmSeal } from '../src/crypto/aes-gcm.js';
import { ed25519PrivateKey, ed25519PublicFromSeed, ed25519PublicKey, ed25519Sign, ed25519Verify } from '../src/crypto/ed25519.js';
import { sha512 } from '../src/crypto/hash.js';
import { hkdfSha256 } from '../src/crypto/hkdf.js';
import { loadProviders, type CryptoProviders } from '../src/crypto/providers.js';
import { x25519, x25519Base, x25519PrivateKey } from '../src/crypto/x25519.js';
import { inspectEnvelope, open, seal } from '../src/envelope/index.js';
import { ENVELOPE_SIGNATURE_CONTEXT, signedMessage } from '@pqseal/sdk/envelope';
import {
  RECIPIENT_ORG_ID,
  SENDER_NAME,
  SENDER_ORG_ID,
  check,
  equalBytes,
  keysFor,
  makeOrg,
  randomPlain,
  recipientOf,
  seedFrom,
  signerOf,
} from './lib/crypto-fixtures.js';
import { measureGroup, median, type BenchOp, type GroupOptions, type Measurement } from './lib/crypto-measure.js';
import {
  REPORT_SCHEMA,
  renderConsole,
  renderMarkdownReport,
  type BenchReport,
  type OperationResult,
  type OverheadResult,
  type PrimitiveResult,
  type TargetResult,
  type WholeOperation,
  type WinnerResult,
} from './lib/crypto-report.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Settings {
  readonly seconds: number;
  readonly rounds: number;
  readonly quick: boolean;
  readonly strict: boolean;
  readonly outDir: string;
}

function parseSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Settings {
  const known = new Set(['--quick', '--strict']);
  const unknown = argv.filter((a) => !known.has(a));
  if (unknown.length > 0) throw new UsageError(`unknown argument(s): ${unknown.join(' ')} (accepted: --quick, --strict)`);
  const quick = argv.includes('--quick');
  const seconds = env.BENCH_SECONDS === undefined || env.BENCH_SECONDS === '' ? (quick ? 0.3 : 1.5) : Number(env.BENCH_SECONDS);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
    throw new UsageError(`BENCH_SECONDS must be a number of seconds in (0, 600], got ${JSON.stringify(env.BENCH_SECONDS)}`);
  const rounds = env.BENCH_ROUNDS === undefined || env.BENCH_ROUNDS === '' ? 3 : Number(env.BENCH_ROUNDS);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 99)
    throw new UsageError(`BENCH_ROUNDS must be an integer in [1, 99], got ${JSON.stringify(env.BENCH_ROUNDS)}`);
  const rawOut = env.BENCH_OUT_DIR === undefined || env.BENCH_OUT_DIR === '' ? join(REPO_ROOT, 'bench', 'results') : env.BENCH_OUT_DIR;
  const outDir = isAbsolute(rawOut) ? rawOut : resolve(process.cwd(), rawOut);
  return { seconds, rounds, quick, strict: argv.includes('--strict'), outDir };
}

class UsageError extends Error {}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

function packageVersion(name: string): string | null {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? null;
  } catch {
    return null;
  }
}

/** The subset of @noble/ciphers used here; it is only a transitive dependency, so it is optional. */
interface NobleGcm {
  gcm(key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array): { encrypt(pt: Uint8Array): Uint8Array; decrypt(ct: Uint8Array): Uint8Array };
}

async function loadNobleCiphers(): Promise<NobleGcm | undefined> {
  const specifier = '@noble/ciphers/aes.js'; // a variable, so the build does not require the package
  try {
    const mod = (await import(specifier)) as Partial<NobleGcm>;
    return typeof mod.gcm === 'function' ? (mod as NobleGcm) : undefined;
  } catch {
    return undefined;
  }
}

interface Case {
  readonly impl: string;
  readonly detail: string;
  readonly run: () => unknown;
}

interface PrimitiveGroup {
  readonly primitive: string;
  readonly operation: string;
  readonly cases: readonly Case[];
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function primitiveGroups(fast: CryptoProviders, noble: CryptoProviders, nobleGcm: NobleGcm | undefined): PrimitiveGroup[] {
  const OQS = 'liboqs-wasm';
  const NOBLE_PQ = 'noble-post-quantum';
  const NODE = 'node:crypto';

  // ML-DSA-65 over a message the size of the composite M' (145 bytes).
  const dsa = fast.mlDsa65.keygenFromSeed(seedFrom('ml-dsa-65', 32));
  const dsaMessage = randomPlain(145);
  const dsaSig = fast.mlDsa65.sign(dsa.secretKey, dsaMessage);
  check(noble.mlDsa65.verify(dsa.publicKey, dsaMessage, dsaSig), 'noble verifies a liboqs ML-DSA-65 signature');
  check(fast.mlDsa65.verify(dsa.publicKey, dsaMessage, noble.mlDsa65.sign(dsa.secretKey, dsaMessage)), 'liboqs verifies a noble ML-DSA-65 signature');
  const dsaVerify = (p: CryptoProviders) => () => {
    if (!p.mlDsa65.verify(dsa.publicKey, dsaMessage, dsaSig)) throw new Error('ML-DSA-65 verify failed');
  };

  // ML-KEM-768.
  const kem = fast.mlKem768.keygenFromSeed(seedFrom('ml-kem-768', 64));
  const kemEnc = fast.mlKem768.encapsulate(kem.publicKey);
  check(equalBytes(noble.mlKem768.decapsulate(kemEnc.cipherText, kem.secretKey), kemEnc.sharedSecret), 'noble decapsulates a liboqs ML-KEM-768 ciphertext');
  const nobleKemEnc = noble.mlKem768.encapsulate(kem.publicKey);
  check(
    equalBytes(fast.mlKem768.decapsulate(nobleKemEnc.cipherText, kem.secretKey), nobleKemEnc.sharedSecret),
    'liboqs decapsulates a noble ML-KEM-768 ciphertext',
  );

  // X-Wing (the expanded key is implementation-independent: key generation goes through noble in both sets).
  const xwKey = fast.xWing.expand(seedFrom('x-wing', 32));
  const xwPublic = fast.xWing.publicKey(xwKey);
  const xwEnc = fast.xWing.encapsulate(xwPublic);
  check(equalBytes(noble.xWing.decapsulate(xwEnc.cipherText, xwKey), xwEnc.sharedSecret), 'X-Wing round trip across implementations');
  check(equalBytes(fast.xWing.decapsulate(xwEnc.cipherText, xwKey), xwEnc.sharedSecret), 'X-Wing round trip (liboqs)');

  // Composite signature over a message of the envelope's signed-message size.
  const comp = fast.composite.expandSecret(seedFrom('composite', 64));
  const compPublic = fast.composite.parsePublic(comp.publicKey);
  const compMessage = randomPlain(264);
  const compSig = fast.composite.sign(comp, compMessage, ENVELOPE_SIGNATURE_CONTEXT);
  check(noble.composite.verify(compPublic, compMessage, compSig, ENVELOPE_SIGNATURE_CONTEXT), 'noble composite verifies a liboqs composite signature');
  const compVerify = (p: CryptoProviders) => () => {
    if (!p.composite.verify(compPublic, compMessage, compSig, ENVELOPE_SIGNATURE_CONTEXT)) throw new Error('composite verify failed');
  };

  // Ed25519: node:crypto with KeyObjects parsed once (as the composite keys are) vs @noble/curves on raw keys.
  const edSeed = seedFrom('ed25519', 32);
  const edPrivate = ed25519PrivateKey(edSeed);
  const edPublicRaw = ed25519PublicFromSeed(edSeed);
  const edPublic = ed25519PublicKey(edPublicRaw);
  const edMessage = randomPlain(145);
  const edSig = ed25519Sign(edPrivate, edMessage);
  check(equalBytes(ed25519.getPublicKey(edSeed), edPublicRaw), 'Ed25519 public keys agree');
  check(equalBytes(ed25519.sign(edMessage, edSeed), edSig), 'Ed25519 signatures agree (deterministic)');

  // X25519: node:crypto as X-Wing uses it (secret as KeyObject, peer public key imported per call).
  const xSecretRaw = seedFrom('x25519/a', 32);
  const xSecret = x25519PrivateKey(xSecretRaw);
  const xPeerPublic = x25519Base(seedFrom('x25519/b', 32));
  check(equalBytes(nobleX25519.getSharedSecret(xSecretRaw, xPeerPublic), x25519(xSecret, xPeerPublic)), 'X25519 shared secrets agree');
  check(equalBytes(nobleX25519.getPublicKey(xSecretRaw), x25519Base(xSecretRaw)), 'X25519 public keys agree');

  // AES-256-GCM with associated data the size of the envelope's (header 88 + X-Wing ciphertext 1120).
  const aesKey = randomPlain(32);
  const aesNonce = randomPlain(12);
  const aesAad = randomPlain(1208);
  const aesPlain = { [KiB]: randomPlain(KiB), [MiB]: randomPlain(MiB) } as Record<number, Uint8Array>;
  const aesSealed: Record<number, Uint8Array> = {};
  for (const size of [KiB, MiB]) {
    const pt = aesPlain[size] as Uint8Array;
    const ct = aesGcmSeal(aesKey, aesNonce, [pt], aesAad);
    aesSealed[size] = ct;
    check(equalBytes(aesGcmOpen(aesKey, aesNonce, ct, aesAad), pt), `AES-256-GCM round trip ${size}`);
    if (nobleGcm) {
      check(equalBytes(nobleGcm.gcm(aesKey, aesNonce, aesAad).encrypt(pt), ct), `@noble/ciphers AES-256-GCM agrees (${size} bytes)`);
    }
  }

  const hashInput = randomPlain(MiB);
  check(equalBytes(nobleSha512(hashInput), sha512(hashInput)), 'SHA-512 agrees');
  const ikm = randomPlain(32);
  const salt = randomPlain(16);
  const info = randomPlain(36);
  check(equalBytes(nobleHkdf(nobleSha256, ikm, salt, info, 44), hkdfSha256(ikm, salt, info, 44)), 'HKDF-SHA256 agrees');

  const aesCases = (size: number, dir: 'encrypt' | 'decrypt'): Case[] => {
    const pt = aesPlain[size] as Uint8Array;
    const ct = aesSealed[size] as Uint8Array;
    const cases: Case[] = [
      {
        impl: NODE,
        detail: 'node:crypto createCipheriv (src/crypto/aes-gcm.ts)',
        run: dir === 'encrypt' ? () => aesGcmSeal(aesKey, aesNonce, [pt], aesAad) : () => aesGcmOpen(aesKey, aesNonce, ct, aesAad),
      },
    ];
    if (nobleGcm) {
      cases.push({
        impl: '@noble/ciphers',
        detail: `@noble/ciphers ${packageVersion('@noble/ciphers') ?? ''} gcm`.trim(),
        run: dir === 'encrypt' ? () => nobleGcm.gcm(aesKey, aesNonce, aesAad).encrypt(pt) : () => nobleGcm.gcm(aesKey, aesNonce, aesAad).decrypt(ct),
      });
    }
    return cases;
  };

  return [
    {
      primitive: 'ML-DSA-65',
      operation: 'sign',
      cases: [
        { impl: OQS, detail: fast.mlDsa65.implementation, run: () => fast.mlDsa65.sign(dsa.secretKey, dsaMessage) },
        { impl: NOBLE_PQ, detail: noble.mlDsa65.implementation, run: () => noble.mlDsa65.sign(dsa.secretKey, dsaMessage) },
      ],
    },
    {
      primitive: 'ML-DSA-65',
      operation: 'verify',
      cases: [
        { impl: OQS, detail: fast.mlDsa65.implementation, run: dsaVerify(fast) },
        { impl: NOBLE_PQ, detail: noble.mlDsa65.implementation, run: dsaVerify(noble) },
      ],
    },
    {
      primitive: 'ML-KEM-768',
      operation: 'encapsulate',
      cases: [
        { impl: OQS, detail: fast.mlKem768.implementation, run: () => fast.mlKem768.encapsulate(kem.publicKey) },
        { impl: NOBLE_PQ, detail: noble.mlKem768.implementation, run: () => noble.mlKem768.encapsulate(kem.publicKey) },
      ],
    },
    {
      primitive: 'ML-KEM-768',
      operation: 'decapsulate',
      cases: [
        { impl: OQS, detail: fast.mlKem768.implementation, run: () => fast.mlKem768.decapsulate(kemEnc.cipherText, kem.secretKey) },
        { impl: NOBLE_PQ, detail: noble.mlKem768.implementation, run: () => noble.mlKem768.decapsulate(kemEnc.cipherText, kem.secretKey) },
      ],
    },
    {
      primitive: 'X-Wing',
      operation: 'encapsulate',
      cases: [
        { impl: OQS, detail: fast.xWing.implementation, run: () => fast.xWing.encapsulate(xwPublic) },
        { impl: NOBLE_PQ, detail: noble.xWing.implementation, run: () => noble.xWing.encapsulate(xwPublic) },
      ],
    },
    {
      primitive: 'X-Wing',
      operation: 'decapsulate',
      cases: [
        { impl: OQS, detail: fast.xWing.implementation, run: () => fast.xWing.decapsulate(xwEnc.cipherText, xwKey) },
        { impl: NOBLE_PQ, detail: noble.xWing.implementation, run: () => noble.xWing.decapsulate(xwEnc.cipherText, xwKey) },
      ],
    },
    {
      primitive: 'Composite ML-DSA-65+Ed25519',
      operation: 'sign',
      cases: [
        { impl: OQS, detail: fast.composite.implementation, run: () => fast.composite.sign(comp, compMessage, ENVELOPE_SIGNATURE_CONTEXT) },
        { impl: NOBLE_PQ, detail: noble.composite.implementation, run: () => noble.composite.sign(comp, compMessage, ENVELOPE_SIGNATURE_CONTEXT) },
      ],
    },
    {
      primitive: 'Composite ML-DSA-65+Ed25519',
      operation: 'verify',
      cases: [
        { impl: OQS, detail: fast.composite.implementation, run: compVerify(fast) },
        { impl: NOBLE_PQ, detail: noble.composite.implementation, run: compVerify(noble) },
      ],
    },
    {
      primitive: 'Ed25519',
      operation: 'sign',
      cases: [
        { impl: NODE, detail: 'node:crypto sign (KeyObject parsed once)', run: () => ed25519Sign(edPrivate, edMessage) },
        { impl: '@noble/curves', detail: '@noble/curves ed25519.sign', run: () => ed25519.sign(edMessage, edSeed) },
      ],
    },
    {
      primitive: 'Ed25519',
      operation: 'verify',
      cases: [
        {
          impl: NODE,
          detail: 'node:crypto verify (KeyObject parsed once)',
          run: () => {
            if (!ed25519Verify(edPublic, edMessage, edSig)) throw new Error('Ed25519 verify failed');
          },
        },
        {
          impl: '@noble/curves',
          detail: '@noble/curves ed25519.verify (ZIP 215)',
          run: () => {
            if (!ed25519.verify(edSig, edMessage, edPublicRaw)) throw new Error('Ed25519 verify failed');
          },
        },
      ],
    },
    {
      primitive: 'X25519',
      operation: 'shared secret',
      cases: [
        { impl: NODE, detail: 'node:crypto diffieHellman, peer key imported per call (as in X-Wing)', run: () => x25519(xSecret, xPeerPublic) },
        { impl: '@noble/curves', detail: '@noble/curves x25519.getSharedSecret', run: () => nobleX25519.getSharedSecret(xSecretRaw, xPeerPublic) },
      ],
    },
    {
      primitive: 'X25519',
      operation: 'public key',
      cases: [
        { impl: NODE, detail: 'node:crypto createPrivateKey + export (as in X-Wing)', run: () => x25519Base(xSecretRaw) },
        { impl: '@noble/curves', detail: '@noble/curves x25519.getPublicKey', run: () => nobleX25519.getPublicKey(xSecretRaw) },
      ],
    },
    { primitive: 'AES-256-GCM', operation: 'encrypt 1 KiB', cases: aesCases(KiB, 'encrypt') },
    { primitive: 'AES-256-GCM', operation: 'decrypt 1 KiB', cases: aesCases(KiB, 'decrypt') },
    { primitive: 'AES-256-GCM', operation: 'encrypt 1 MiB', cases: aesCases(MiB, 'encrypt') },
    { primitive: 'AES-256-GCM', operation: 'decrypt 1 MiB', cases: aesCases(MiB, 'decrypt') },
    {
      primitive: 'SHA-512',
      operation: 'hash 1 MiB',
      cases: [
        { impl: NODE, detail: 'node:crypto createHash', run: () => sha512(hashInput) },
        { impl: '@noble/hashes', detail: '@noble/hashes sha512', run: () => nobleSha512(hashInput) },
      ],
    },
    {
      primitive: 'HKDF-SHA256',
      operation: 'derive 44 B',
      cases: [
        { impl: NODE, detail: 'node:crypto hkdfSync', run: () => hkdfSha256(ikm, salt, info, 44) },
        { impl: '@noble/hashes', detail: '@noble/hashes hkdf(sha256)', run: () => nobleHkdf(nobleSha256, ikm, salt, info, 44) },
      ],
    },
  ];
}

function winnersOf(primitives: readonly PrimitiveResult[]): WinnerResult[] {
  const groups = new Map<string, PrimitiveResult[]>();
  for (const p of primitives) {
    const key = `${p.primitive}\u0000${p.operation}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => b.opsPerSec - a.opsPerSec);
    const [first, second] = sorted as [PrimitiveResult, PrimitiveResult | undefined];
    return {
      primitive: first.primitive,
      operation: first.operation,
      winner: first.impl,
      runnerUp: second?.impl ?? null,
      speedup: second ? first.opsPerSec / second.opsPerSec : 1,
    };
  });
}

function figures(m: Measurement) {
  return { meanUs: m.meanUs, opsPerSec: m.opsPerSec, totalOps: m.totalOps, totalSeconds: m.totalSeconds, rounds: m.rounds };
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2), process.env);
  const startedAt = new Date();
  const loadAverageStart = loadavg();
  const sliceSeconds = Math.min(0.25, settings.seconds);
  const warmupSeconds = Math.min(0.3, Math.max(0.01, settings.seconds * 0.2));
  const groupOptions = (rounds: number): GroupOptions => ({ seconds: settings.seconds, rounds, sliceSeconds, warmupSeconds, onProgress: progress });

  progress(`pqseal bench:crypto: ${settings.seconds} s per op, ${settings.rounds} rounds for whole operations and ratios; results to ${settings.outDir}`);
  const [fast, noble, nobleGcm] = await Promise.all([loadProviders('fastest'), loadProviders('noble'), loadNobleCiphers()]);
  if (!nobleGcm) progress('@noble/ciphers is not installed: AES-256-GCM is measured for node:crypto only');

  // ---- Primitives: one group per (primitive, operation), implementations interleaved. ----
  const groups = primitiveGroups(fast, noble, nobleGcm);
  const primitives: PrimitiveResult[] = [];
  groups.forEach((g, i) => {
    progress(`[${i + 1}/${groups.length}] ${g.primitive} ${g.operation}: ${g.cases.map((c) => c.impl).join(' vs ')}`);
    const ops: BenchOp[] = g.cases.map((c) => ({ id: c.impl, run: c.run }));
    const measured = measureGroup(ops, groupOptions(1));
    g.cases.forEach((c, k) => {
      primitives.push({
        id: `${slug(g.primitive)}.${slug(g.operation)}.${slug(c.impl)}`,
        primitive: g.primitive,
        operation: g.operation,
        impl: c.impl,
        detail: c.detail,
        ...figures(measured[k] as Measurement),
      });
    });
  });

  // ---- Whole operations with the 'fastest' providers. ----
  const sender = makeOrg(fast, SENDER_ORG_ID, SENDER_NAME);
  const recipient = makeOrg(fast, RECIPIENT_ORG_ID, 'Partner Health Cooperative');
  const keys = keysFor(recipient, [sender]);
  const payloads: Record<number, Uint8Array> = { [KiB]: randomPlain(KiB), [MiB]: randomPlain(MiB) };
  const envelopes: Record<number, { signed: string; unsigned: string }> = {};
  for (const size of [KiB, MiB]) {
    const plaintext = payloads[size] as Uint8Array;
    const signed = seal(fast, { plaintext, recipient: recipientOf(recipient), signer: signerOf(sender) }).envelope;
    const unsigned = seal(fast, { plaintext, recipient: recipientOf(recipient) }).envelope;
    const a = open(fast, signed, keys);
    const b = open(fast, unsigned, keys);
    check(a.signature.status === 'valid' && equalBytes(a.plaintext, plaintext), `signed envelope (${size} bytes) opens and verifies`);
    check(b.signature.status === 'absent' && equalBytes(b.plaintext, plaintext), `unsigned envelope (${size} bytes) opens`);
    envelopes[size] = { signed, unsigned };
  }

  const wholeOp = (operation: WholeOperation, size: number): BenchOp => {
    const plaintext = payloads[size] as Uint8Array;
    const env = envelopes[size] as { signed: string; unsigned: string };
    const id = `${operation}.${slug(size === KiB ? '1 KiB' : '1 MiB')}`;
    switch (operation) {
      case 'sign-encrypt':
        return { id, run: () => seal(fast, { plaintext, recipient: recipientOf(recipient), signer: signerOf(sender) }) };
      case 'encrypt':
        return { id, run: () => seal(fast, { plaintext, recipient: recipientOf(recipient) }) };
      case 'decrypt':
        return {
          id,
          run: () => {
            const r = open(fast, env.unsigned, keys);
            if (r.signature.status !== 'absent') throw new Error('decrypt: unexpected signature');
            return r;
          },
        };
      case 'decrypt-verify':
        return {
          id,
          run: () => {
            const r = open(fast, env.signed, keys);
            if (r.signature.status !== 'valid') throw new Error('decrypt-verify: signature did not verify');
            return r;
          },
        };
    }
  };

  // The baselines of the targets: the raw primitives timed back to back as one operation (per-op
  // time = the sum of the two), so they run in the same alternating context as inside seal/open.
  // They are measured in the same interleaved group as the whole operations they are compared to.
  // The composite signature signs the exact message seal() signs for the 1 KiB payload.
  const parsed1k = inspectEnvelope(envelopes[KiB]?.signed as string);
  const headerBytes = parsed1k.aad.subarray(0, parsed1k.aad.length - parsed1k.kemCipherText.length);
  const envelopeSignedMessage = signedMessage(headerBytes, signerOf(sender), sha512(payloads[KiB] as Uint8Array));
  const envelopeSignature = fast.composite.sign(sender.signing, envelopeSignedMessage, ENVELOPE_SIGNATURE_CONTEXT);
  const rawXwing = fast.xWing.encapsulate(recipient.kemPublicKey);
  const rawKey = randomPlain(32);
  const rawNonce = randomPlain(12);
  const rawAad = parsed1k.aad.slice();
  const compositeSign = () => fast.composite.sign(sender.signing, envelopeSignedMessage, ENVELOPE_SIGNATURE_CONTEXT);
  const baseline = {
    signEncaps: {
      id: 'raw.composite-sign+x-wing-encapsulate',
      run: () => [compositeSign(), fast.xWing.encapsulate(recipient.kemPublicKey)],
    },
    decapsVerify: {
      id: 'raw.x-wing-decapsulate+composite-verify',
      run: () => {
        const ss = fast.xWing.decapsulate(rawXwing.cipherText, recipient.kem);
        if (!fast.composite.verify(sender.verifying, envelopeSignedMessage, envelopeSignature, ENVELOPE_SIGNATURE_CONTEXT))
          throw new Error('raw composite verify failed');
        return ss;
      },
    },
    signAes1MiB: {
      id: 'raw.composite-sign+aes-256-gcm-encrypt-1mib',
      run: () => [compositeSign(), aesGcmSeal(rawKey, rawNonce, [payloads[MiB] as Uint8Array], rawAad)],
    },
  } satisfies Record<string, BenchOp>;

  const ratioOps = {
    seal1k: wholeOp('sign-encrypt', KiB),
    open1k: wholeOp('decrypt-verify', KiB),
    seal1m: wholeOp('sign-encrypt', MiB),
  };
  progress(`[ratios] whole operations and their raw baselines, ${settings.rounds} interleaved rounds`);
  const ratioGroup: BenchOp[] = [ratioOps.seal1k, baseline.signEncaps, ratioOps.open1k, baseline.decapsVerify, ratioOps.seal1m, baseline.signAes1MiB];
  const ratioMeasured = new Map(measureGroup(ratioGroup, groupOptions(settings.rounds)).map((m) => [m.id, m]));

  progress(`[whole operations] remaining whole operations, ${settings.rounds} interleaved rounds`);
  const otherOps = [wholeOp('encrypt', KiB), wholeOp('decrypt', KiB), wholeOp('encrypt', MiB), wholeOp('decrypt', MiB), wholeOp('decrypt-verify', MiB)];
  const otherMeasured = new Map(measureGroup(otherOps, groupOptions(settings.rounds)).map((m) => [m.id, m]));
  const measuredWhole = (id: string): Measurement => (ratioMeasured.get(id) ?? otherMeasured.get(id)) as Measurement;

  const providerDetail = `${fast.composite.implementation}; ${fast.xWing.implementation}; AES-256-GCM, HKDF-SHA256, SHA-512 node:crypto`;
  const operations: OperationResult[] = [];
  for (const operation of ['sign-encrypt', 'encrypt', 'decrypt', 'decrypt-verify'] as const) {
    for (const size of [KiB, MiB]) {
      const { id } = wholeOp(operation, size);
      operations.push({ id, operation, payloadBytes: size, providers: 'fastest', providerDetail, ...figures(measuredWhole(id)) });
    }
  }

  // ---- Targets: per-round ratios (all terms measured in the same round), median over rounds. ----
  const m = (op: BenchOp): Measurement => ratioMeasured.get(op.id) as Measurement;
  const roundUs = (op: BenchOp, r: number): number => (m(op).rounds[r] as { meanUs: number }).meanUs;
  const target = (
    id: string,
    description: string,
    formula: string,
    comparison: '>=' | '<=',
    threshold: number,
    whole: BenchOp,
    base: BenchOp,
  ): TargetResult => {
    const perRound: number[] = [];
    const extra: number[] = [];
    for (let r = 0; r < settings.rounds; r++) {
      const baseUs = roundUs(base, r);
      const wholeUs = roundUs(whole, r);
      perRound.push(comparison === '>=' ? baseUs / wholeUs : wholeUs / baseUs);
      extra.push(wholeUs - baseUs);
    }
    const value = median(perRound);
    const terms: Record<string, number> = { [whole.id]: m(whole).meanUs, [base.id]: m(base).meanUs };
    return {
      id,
      description,
      formula,
      comparison,
      threshold,
      value,
      perRound,
      pass: comparison === '>=' ? value >= threshold : value <= threshold,
      terms,
      extraUs: median(extra),
    };
  };
  const targets: TargetResult[] = [
    target(
      'sign-encrypt-1KiB',
      'sign-encrypt 1 KiB vs raw composite sign + X-Wing encaps',
      't(composite sign; X-Wing encaps back to back) / t(sign-encrypt 1 KiB) >= 0.90',
      '>=',
      0.9,
      ratioOps.seal1k,
      baseline.signEncaps,
    ),
    target(
      'decrypt-verify-1KiB',
      'decrypt-verify 1 KiB vs raw X-Wing decaps + composite verify',
      't(X-Wing decaps; composite verify back to back) / t(decrypt-verify 1 KiB) >= 0.90',
      '>=',
      0.9,
      ratioOps.open1k,
      baseline.decapsVerify,
    ),
    target(
      'sign-encrypt-1MiB',
      'sign-encrypt 1 MiB vs raw composite sign + AES-256-GCM 1 MiB',
      't(sign-encrypt 1 MiB) / t(composite sign; AES-256-GCM 1 MiB back to back) <= 2',
      '<=',
      2,
      ratioOps.seal1m,
      baseline.signAes1MiB,
    ),
  ];

  // ---- Envelope overhead (empty permissions). ----
  const emptyPayload = new Uint8Array(0);
  const unsignedEmpty = seal(fast, { plaintext: emptyPayload, recipient: recipientOf(recipient) });
  const signedEmpty = seal(fast, { plaintext: emptyPayload, recipient: recipientOf(recipient), signer: signerOf(sender) });
  const unsigned1k = seal(fast, { plaintext: payloads[KiB] as Uint8Array, recipient: recipientOf(recipient) });
  const signed1k = seal(fast, { plaintext: payloads[KiB] as Uint8Array, recipient: recipientOf(recipient), signer: signerOf(sender) });
  check(
    unsigned1k.byteLength - KiB === unsignedEmpty.byteLength && signed1k.byteLength - KiB === signedEmpty.byteLength,
    'overhead is independent of the payload size',
  );
  const overhead: OverheadResult = {
    unsignedBytes: unsignedEmpty.byteLength,
    signedBytes: signedEmpty.byteLength,
    signerNameBytes: Buffer.byteLength(SENDER_NAME, 'utf8'),
    orgIdLength: SENDER_ORG_ID.length,
    keyIdLength: sender.signKeyId.length,
    headerBytes: headerBytes.length,
    unsignedChars1KiB: unsigned1k.envelope.length - KiB,
    signedChars1KiB: signed1k.envelope.length - KiB,
  };

  const finishedAt = new Date();
  const report: BenchReport = {
    schema: REPORT_SCHEMA,
    date: startedAt.toISOString().slice(0, 10),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    environment: {
      node: process.version,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      loadAverageStart,
      loadAverageEnd: loadavg(),
      packages: Object.fromEntries(
        ['@oqs/liboqs-js', '@noble/post-quantum', '@noble/curves', '@noble/hashes', '@noble/ciphers'].map((name) => [name, packageVersion(name)]),
      ),
    },
    settings: { secondsPerOp: settings.seconds, ratioRounds: settings.rounds, sliceSeconds, warmupSeconds, quick: settings.quick, threads: 1 },
    primitives,
    operations,
    winners: winnersOf(primitives),
    targets,
    overhead,
    allTargetsPass: targets.every((t) => t.pass),
  };

  mkdirSync(settings.outDir, { recursive: true });
  const jsonPath = join(settings.outDir, `crypto-${report.date}.json`);
  const mdPath = join(settings.outDir, 'crypto-latest.md');
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(mdPath, renderMarkdownReport(report));

  process.stdout.write(`${renderConsole(report)}\n`);
  progress(`wrote ${jsonPath} and ${mdPath}`);
  if (settings.strict && !report.allTargetsPass) process.exitCode = 2;
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bench:crypto: ${error.message}\n`);
    process.exitCode = 64;
    return;
  }
  process.stderr.write(`bench:crypto failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

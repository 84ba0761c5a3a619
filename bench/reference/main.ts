/**
 * The per-request reference of the load benchmark (bench/load.ts, scenario `reference-sign-encrypt`):
 * a minimal process — node:http and a fixed pool of worker threads (piscina, one per core unless
 * PQSEAL_WORKERS says otherwise, like the server) — that answers each POST /sign-encrypt of a
 * `{"data": "…"}` body with the raw primitives of one sign-encrypt (./task.ts) and a small JSON
 * `{"encrypted_data": "<base64url>"}`. No identity, validation beyond the body's shape, audit or
 * store: what a sign-encrypt costs with nothing of the service around it.
 *
 * Also GET /healthz and the statistics routes the benchmark reads around every point, in the shape
 * of the server's (bench/server/routes.ts): GET /bench/stats, POST /bench/stats/reset.
 *
 * Usage: node dist/bench/reference/main.js --port <port>
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { processStats } from '../server/process-stats.js';
import { ThreadIdRegistry } from '../server/thread-id.js';
import type { ReferenceWorkerData } from './task.js';

const MAX_BODY_BYTES = 2 * 1024 * 1024;

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const threads = Number(process.env.PQSEAL_WORKERS) || availableParallelism();
const registry = new ThreadIdRegistry();
const ready = new Int32Array(new SharedArrayBuffer(4));
const pool = new Piscina<Uint8Array, string>({
  filename: new URL('./task-entry.cjs', import.meta.url).href,
  minThreads: threads,
  maxThreads: threads,
  idleTimeout: Number.POSITIVE_INFINITY,
  workerData: { threadIds: registry.buffer, ready: ready.buffer } satisfies ReferenceWorkerData,
});

const processStatistics = processStats();

function stats(): unknown {
  return { ...processStatistics.snapshot(), threads: { main: process.pid, crypto: registry.ids() } };
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

async function signEncrypt(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  if (!body) return answer(res, 413, { error: 'body too large' });
  let data: unknown;
  try {
    data = (JSON.parse(body.toString('utf8')) as { data?: unknown }).data;
  } catch {
    return answer(res, 400, { error: 'body is not JSON' });
  }
  if (typeof data !== 'string') return answer(res, 400, { error: 'data must be a string' });
  answer(res, 200, { encrypted_data: await pool.run(new Uint8Array(Buffer.from(data, 'utf8'))) });
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const key = `${req.method} ${req.url}`;
  if (key === 'POST /sign-encrypt') return signEncrypt(req, res);
  // Healthy once every worker has loaded its keys (the benchmark waits for this before it measures).
  if (key === 'GET /healthz') return Atomics.load(ready, 0) >= threads ? answer(res, 200, { status: 'ok' }) : answer(res, 503, { status: 'starting' });
  if (key === 'GET /bench/stats') return answer(res, 200, stats());
  if (key === 'POST /bench/stats/reset') {
    processStatistics.reset();
    return answer(res, 200, { ok: true });
  }
  req.resume();
  answer(res, 404, { error: 'not found' });
}

const server = createServer((req, res) => {
  route(req, res).catch((e: unknown) => {
    process.stderr.write(`reference: ${(e as Error).message}\n`);
    if (!res.headersSent) answer(res, 500, { error: 'internal error' });
    else res.destroy();
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1');

process.once('SIGTERM', () => {
  server.close();
  server.closeIdleConnections();
  void pool.destroy().then(() => process.exit(0));
});

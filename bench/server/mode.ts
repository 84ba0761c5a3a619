import type { FastifyInstance } from 'fastify';
import type { WorkerStartup } from '../../src/common/worker-startup.js';
import { benchRoutes, type BenchHost } from './routes.js';
import { ThreadIdRegistry } from './thread-id.js';

/**
 * What PQSEAL_BENCH_ROUTES=true adds to a server (src/server.ts loads this module with a dynamic
 * import only then, so a default server never loads benchmark code): the crypto worker and audit
 * writer threads register their kernel ids as they start, for the benchmark's CPU accounting by
 * thread role, and the ceiling and statistics routes (./routes.ts).
 */
export interface BenchMode {
  readonly workerStartup: { readonly crypto: WorkerStartup; readonly audit: WorkerStartup };
  routes(host: BenchHost): (app: FastifyInstance) => Promise<void>;
}

const REGISTER_THREAD = new URL('./thread-id.js', import.meta.url).href;

export function benchMode(): BenchMode {
  const crypto = new ThreadIdRegistry();
  const audit = new ThreadIdRegistry();
  const threadRoles = () => ({ crypto: crypto.ids(), audit: audit.ids().at(-1) });
  return {
    workerStartup: { crypto: { module: REGISTER_THREAD, data: crypto.buffer }, audit: { module: REGISTER_THREAD, data: audit.buffer } },
    routes: (host) => (app) => benchRoutes(app, host, threadRoles),
  };
}

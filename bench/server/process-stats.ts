import { monitorEventLoopDelay } from 'node:perf_hooks';

const ELD_RESOLUTION_MS = 10;

/** What `/bench/stats` reports of a process, for the service (bench/server/routes.ts) and the reference (bench/reference/main.ts) alike. */
export interface ProcessStats {
  /** Event-loop delay percentiles and memory since the last reset. */
  snapshot(): Record<string, unknown>;
  reset(): void;
  stop(): void;
}

export function processStats(): ProcessStats {
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  eld.enable();
  let since = Date.now();
  // The histogram records the whole interval between timer callbacks, so an idle loop reads about
  // `resolution`; the delay is what exceeds it (the convention of @fastify/under-pressure).
  const delayMs = (ns: number) => (Number.isFinite(ns) && eld.count > 0 ? Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS) : 0);
  return {
    snapshot() {
      const memory = process.memoryUsage();
      return {
        sinceMs: Date.now() - since,
        eventLoopDelayMs: {
          resolution: ELD_RESOLUTION_MS,
          samples: eld.count,
          mean: delayMs(eld.mean),
          p50: delayMs(eld.percentile(50)),
          p90: delayMs(eld.percentile(90)),
          p99: delayMs(eld.percentile(99)),
          max: delayMs(eld.max),
        },
        memory: { rss: memory.rss, heapTotal: memory.heapTotal, heapUsed: memory.heapUsed, external: memory.external, arrayBuffers: memory.arrayBuffers },
        uptimeSeconds: process.uptime(),
      };
    },
    reset() {
      eld.reset();
      since = Date.now();
    },
    stop() {
      eld.disable();
    },
  };
}

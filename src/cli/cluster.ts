import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.js';
import { listenMetrics, type MetricsListener } from '../http/metrics-listener.js';
import { answerWorkerScrapes } from '../prometheus/cluster-ipc.js';
import { prepareDataDir } from '../server.js';
import { showDemoCredentials } from './demo.js';

/**
 * PQSEAL_PROCESSES=N: the primary prepares DATA_DIR, forks N server processes that share the port
 * (node:cluster hands connections out round-robin), restarts one that dies with a growing back-off,
 * and on SIGTERM/SIGINT tells every one to drain, then exits. It serves no request itself.
 */

/** Messages between the primary and its workers. */
export const LISTENING = 'pqseal:listening';
export const SLOT_ENV = 'PQSEAL_CLUSTER_SLOT';

/** Workers that die before listening this many times in a row: give up (exit 1), it will not get better. */
const MAX_START_FAILURES = 5;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;
/** A worker up this long had a fair run: the next restart of its slot starts from the first back-off again. */
const STABLE_AFTER_MS = 30_000;
/** How long a drain may take before the primary stops waiting and kills the worker. */
const DRAIN_LIMIT_MS = 60_000;

interface Slot {
  worker: Worker | undefined;
  listening: boolean;
  startedAt: number;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/** pino's numbers, so the primary's lines read like the servers' and obey the same LOG_LEVEL. */
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
let threshold = LEVELS.info as number;

function log(level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50 } as const;
  if (levels[level] < threshold) return;
  process.stdout.write(`${JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg })}\n`);
}

export async function servePrimary(config: Config): Promise<number> {
  threshold = LEVELS[config.logLevel] ?? (LEVELS.info as number);
  const demo = await prepareDataDir(config);
  const exposition = answerWorkerScrapes();
  let metrics: MetricsListener | undefined;
  if (config.metricsPort !== undefined) metrics = await listenMetrics(config.host, config.metricsPort, exposition);

  const slots: Slot[] = Array.from({ length: config.processes }, () => ({
    worker: undefined,
    listening: false,
    startedAt: 0,
    backoffMs: FIRST_BACKOFF_MS,
    restartTimer: undefined,
  }));
  let startFailures = 0;
  let stopping = false;
  let exitCode = 0;
  let bannerShown = false;
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const stopAll = (reason: string, code: number): void => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log('info', 'shutting down: every process drains its in-flight requests', { reason });
    for (const slot of slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      slot.worker?.process.kill('SIGTERM');
    }
    setTimeout(() => {
      for (const slot of slots) slot.worker?.process.kill('SIGKILL');
    }, DRAIN_LIMIT_MS).unref();
    checkAllExited();
  };
  const checkAllExited = (): void => {
    if (stopping && slots.every((s) => s.worker === undefined)) {
      void (metrics?.close() ?? Promise.resolve()).then(() => finish(exitCode));
    }
  };

  const fork = (index: number): void => {
    const slot = slots[index] as Slot;
    slot.restartTimer = undefined;
    slot.listening = false;
    slot.startedAt = Date.now();
    // The primary already made the demo organisation; the workers must not try again.
    const worker = cluster.fork({ [SLOT_ENV]: String(index), PQSEAL_DEMO: 'false' });
    slot.worker = worker;
    worker.on('message', (message: unknown) => {
      if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== LISTENING) return;
      slot.listening = true;
      startFailures = 0;
      const url = String((message as { url?: unknown }).url);
      log('info', 'server process listening', { process: index, workerPid: worker.process.pid, url });
      if (demo && !bannerShown) {
        bannerShown = true;
        showDemoCredentials(config, url, demo.org, { info: (details, message) => log('info', message, { ...details }) });
      }
    });
    worker.on('exit', (code, signal) => {
      slot.worker = undefined;
      if (stopping) {
        if (code !== 0) exitCode = exitCode || 1;
        checkAllExited();
        return;
      }
      const upMs = Date.now() - slot.startedAt;
      if (!slot.listening) startFailures++;
      if (startFailures >= MAX_START_FAILURES) {
        log('error', 'server processes keep failing at start: giving up', { failures: startFailures, code, signal });
        stopAll('start failures', 1);
        return;
      }
      if (upMs >= STABLE_AFTER_MS) slot.backoffMs = FIRST_BACKOFF_MS;
      const delay = slot.backoffMs;
      slot.backoffMs = Math.min(MAX_BACKOFF_MS, slot.backoffMs * 2);
      log('warn', 'server process died: restarting it', { process: index, workerPid: worker.process.pid, code, signal, restartInMs: delay });
      slot.restartTimer = setTimeout(() => fork(index), delay);
    });
  };

  process.once('SIGTERM', () => stopAll('SIGTERM', 0));
  process.once('SIGINT', () => stopAll('SIGINT', 0));
  log('info', 'starting server processes', { processes: config.processes, workersEach: config.workers, dataDir: config.dataDir });
  for (let i = 0; i < slots.length; i++) fork(i);
  return finished;
}

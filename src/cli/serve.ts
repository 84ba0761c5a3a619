import cluster from 'node:cluster';
import type { Config } from '../config.js';
import { primaryExposition } from '../prometheus/cluster-ipc.js';
import { startServer, type StartOptions } from '../server.js';
import { LISTENING, servePrimary, SLOT_ENV } from './cluster.js';
import { showDemoCredentials } from './demo.js';

/**
 * Runs until SIGTERM/SIGINT, then drains in-flight requests and closes the store cleanly. With
 * PQSEAL_PROCESSES above 1 this process becomes the cluster's primary (src/cli/cluster.ts) and each
 * worker it forks runs this same command.
 */
export async function serve(config: Config): Promise<number> {
  if (config.processes > 1 && cluster.isPrimary) return servePrimary(config);
  try {
    return await serveOne(config);
  } finally {
    // A worker's IPC channel would keep it alive after it stopped serving (or failed to start).
    if (cluster.isWorker && process.connected) process.disconnect();
  }
}

async function serveOne(config: Config): Promise<number> {
  const slot = cluster.isWorker ? process.env[SLOT_ENV] : undefined;
  const options: StartOptions = slot === undefined ? {} : { cluster: { processLabel: slot, exposition: primaryExposition() } };
  const server = await startServer(config, options);
  if (server.demo) showDemoCredentials(config, server.url, server.demo.org, server.app.log);
  server.app.log.info(
    {
      url: server.url,
      dataDir: config.dataDir,
      workers: config.workers,
      store: server.services.store.description,
      ...(slot === undefined ? {} : { process: Number(slot) }),
    },
    'pqseal listening',
  );
  if (cluster.isWorker) process.send?.({ type: LISTENING, url: server.url });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      server.app.log.info({ signal }, 'shutting down: draining in-flight requests');
      server.close().then(resolve, (e) => {
        server.app.log.error({ err: e }, 'error during shutdown');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // A worker whose primary is gone (killed with -9) has nobody to restart or stop it: it drains and exits.
    if (cluster.isWorker) process.once('disconnect', () => stop('primary gone'));
  });
  return 0;
}

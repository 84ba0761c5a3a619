import type { Config } from '../config.js';
import { startServer } from '../server.js';
import { showDemoCredentials } from './demo.js';

/** Runs until SIGTERM/SIGINT, then drains in-flight requests and closes the store cleanly. */
export async function serve(config: Config): Promise<number> {
  const server = await startServer(config);
  if (server.demo) showDemoCredentials(config, server.url, server.demo.org, server.app.log);
  server.app.log.info({ url: server.url, dataDir: config.dataDir, workers: config.workers, store: server.services.store.description }, 'pqseal listening');
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
  });
  return 0;
}

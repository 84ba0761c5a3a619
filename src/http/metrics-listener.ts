import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsExposition } from '../ports/metrics.js';

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * PQSEAL_METRICS_PORT: GET /metrics alone on a port of its own, for a scraper on a private network
 * (the public port then has no /metrics). Anything else is a 404; nothing here reads a body.
 */
export async function listenMetrics(host: string, port: number, exposition: MetricsExposition): Promise<MetricsListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'only GET /metrics here' }));
      return;
    }
    exposition.text().then(
      (text) => response.writeHead(200, { 'content-type': exposition.contentType, 'cache-control': 'no-store' }).end(text),
      () => response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'INTERNAL_ERROR', message: 'metrics unavailable' })),
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

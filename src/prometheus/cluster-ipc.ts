import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import type { MetricsExposition } from '../ports/metrics.js';
import { clusterExposition } from './prometheus-metrics.js';

/**
 * /metrics in a cluster: whichever worker a scrape lands on asks the primary, which gathers every
 * worker's registry (prom-client's AggregatorRegistry, over the cluster's IPC channel) and answers
 * with the sum.
 */

const REQUEST = 'pqseal:metrics-request';
const REPLY = 'pqseal:metrics-reply';
const TIMEOUT_MS = 6_000;

interface ScrapeRequest {
  readonly type: typeof REQUEST;
  readonly id: number;
}

interface ScrapeReply {
  readonly type: typeof REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In the primary: answer the workers' scrapes; also the exposition the primary's own metrics port serves. */
export function answerWorkerScrapes(): MetricsExposition {
  const exposition = clusterExposition();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<ScrapeRequest>(message, REQUEST)) return;
    exposition.text().then(
      (text) => worker.isConnected() && worker.send({ type: REPLY, id: message.id, text } satisfies ScrapeReply),
      (e: unknown) =>
        worker.isConnected() && worker.send({ type: REPLY, id: message.id, error: e instanceof Error ? e.message : 'failed' } satisfies ScrapeReply),
    );
  });
  return exposition;
}

/** In a worker: the cluster's metrics, fetched from the primary. */
export function primaryExposition(): MetricsExposition {
  const pending = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage<ScrapeReply>(message, REPLY)) return;
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.text !== undefined) waiting?.resolve(message.text);
    else waiting?.reject(new Error(`cluster metrics: ${message.error ?? 'no answer'}`));
  });
  return {
    contentType: Registry.PROMETHEUS_CONTENT_TYPE,
    text: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('cluster metrics: the primary did not answer'));
        }, TIMEOUT_MS);
        pending.set(id, {
          resolve: (text) => (clearTimeout(timer), resolve(text)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        process.send?.({ type: REQUEST, id } satisfies ScrapeRequest);
      }),
  };
}

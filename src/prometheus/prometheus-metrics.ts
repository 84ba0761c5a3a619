import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CounterMetric, HistogramMetric, MetricLabels, Metrics, MetricsExposition } from '../ports/metrics.js';

/** Every metric name the service exports starts with this (the process metrics of prom-client too). */
export const METRIC_PREFIX = 'pqseal_';

/**
 * The Prometheus adapter of the metrics port: one registry per server (tests run several in one
 * process), with prom-client's process metrics under the same prefix.
 */
export class PrometheusMetrics implements Metrics, MetricsExposition {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): CounterMetric {
    const counter = new Counter({ name: METRIC_PREFIX + name, help, labelNames: [...labelNames], registers: [this.registry] });
    return { inc: (labels: MetricLabels = {}, by = 1) => counter.inc(labels, by) };
  }

  histogram(name: string, help: string, options: { readonly labelNames?: readonly string[]; readonly buckets: readonly number[] }): HistogramMetric {
    const histogram = new Histogram({
      name: METRIC_PREFIX + name,
      help,
      labelNames: [...(options.labelNames ?? [])],
      buckets: [...options.buckets],
      registers: [this.registry],
    });
    return { observe: (labels, value) => histogram.observe(labels, value) };
  }

  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name: METRIC_PREFIX + name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** In a cluster worker: answer the primary's requests for this registry (prom-client's IPC). */
  shareWithClusterPrimary(): void {
    new AggregatorRegistry();
    AggregatorRegistry.setRegistries([this.registry]);
  }
}

/** In the cluster's primary: every worker's registry, summed (prom-client's own aggregation rules). */
export function clusterExposition(): MetricsExposition {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, text: () => aggregator.clusterMetrics() };
}

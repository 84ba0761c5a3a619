/**
 * What the rest of the system records for monitoring, without knowing the exposition format (the
 * Prometheus adapter is src/prometheus/). Label values must come from small fixed sets (a route
 * pattern, a status, an operation): never a user, an organisation, a raw URL or anything secret.
 */

export type MetricLabels = Readonly<Record<string, string | number>>;

export interface CounterMetric {
  inc(labels?: MetricLabels, by?: number): void;
}

export interface HistogramMetric {
  observe(labels: MetricLabels, value: number): void;
}

export interface Metrics {
  /** `name` without the service prefix, e.g. `http_requests_total`. */
  counter(name: string, help: string, labelNames?: readonly string[]): CounterMetric;
  histogram(name: string, help: string, options: { readonly labelNames?: readonly string[]; readonly buckets: readonly number[] }): HistogramMetric;
  /** A value read when the metrics are scraped (e.g. a queue's length). */
  gauge(name: string, help: string, read: () => number): void;
}

/** The metrics as served on GET /metrics. */
export interface MetricsExposition {
  readonly contentType: string;
  text(): Promise<string>;
}

/** Records nothing: for the CLI's admin commands and anything built without a registry. */
export const noMetrics: Metrics = {
  counter: () => ({ inc: () => undefined }),
  histogram: () => ({ observe: () => undefined }),
  gauge: () => undefined,
};

/** Latency buckets in seconds, from 0.5 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

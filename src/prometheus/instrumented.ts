import type { AuditSink } from '../ports/audit-sink.js';
import type { Cache } from '../ports/cache.js';
import { LATENCY_BUCKETS, type CounterMetric, type Metrics } from '../ports/metrics.js';

/**
 * Decorators of ports that record what passes through them, so the code behind a port needs no
 * metrics of its own. Wired in the composition root.
 */

/** Counts hits and misses of a cache under `cache="<name>"` (the hit ratio is hits / (hits + misses)). */
export function countedCache<V>(cache: Cache<V>, lookups: CounterMetric, name: string): Cache<V> {
  return {
    get(key) {
      const value = cache.get(key);
      lookups.inc({ cache: name, result: value === undefined ? 'miss' : 'hit' });
      return value;
    },
    set: (key, value, notAfter) => cache.set(key, value, notAfter),
    delete: (key) => cache.delete(key),
    deleteWhere: (predicate) => cache.deleteWhere(predicate),
  };
}

export function cacheLookups(metrics: Metrics): CounterMetric {
  return metrics.counter('cache_lookups_total', 'Cache lookups by cache and result (hit or miss)', ['cache', 'result']);
}

/** Records each audit batch's size and the time its transaction took to commit. */
export function timedAuditSink<E, A>(sink: AuditSink<E, A>, metrics: Metrics): AuditSink<E, A> {
  const size = metrics.histogram('audit_batch_size', 'Audit records appended per group commit', { buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256] });
  const latency = metrics.histogram('audit_commit_seconds', 'Time to append and commit one audit batch', { labelNames: ['outcome'], buckets: LATENCY_BUCKETS });
  return {
    get threadId() {
      return sink.threadId;
    },
    async append(events) {
      const started = performance.now();
      let outcome = 'error';
      try {
        const appended = await sink.append(events);
        outcome = 'ok';
        size.observe({}, events.length);
        return appended;
      } finally {
        latency.observe({ outcome }, (performance.now() - started) / 1000);
      }
    },
    close: () => sink.close(),
  };
}

/**
 * One measurement point of `bench/load.ts`: autocannon (programmatic API, one connection per unit of
 * concurrency, no pipelining) against one request for a fixed time.
 *
 * Latency is recorded here from every response's own timing (autocannon measures it with
 * process.hrtime), in floating-point milliseconds: autocannon's histogram rounds to whole
 * milliseconds, too coarse for sub-millisecond routes and for the p99/p50 ratio. Successful (2xx) and
 * refused responses are kept apart, so that "503s come back fast" can be read off directly.
 */
import autocannon from 'autocannon';

export interface RequestSpec {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  /**
   * Bodies sent in turn instead of `body`, one per request across all connections and across every
   * point measured with the same array, so none is sent twice before all have been sent once (e.g.
   * distinct envelopes: a server's memo of verified signatures then helps only where they share one).
   */
  readonly bodies?: readonly string[];
}

/** Where each `bodies` array was left by the previous point. */
const nextBody = new WeakMap<readonly string[], number>();

/** A request that takes the next of `bodies` each time autocannon builds it. */
function rotating(bodies: readonly string[]): autocannon.RequestParams[] {
  return [
    {
      setupRequest: (request) => {
        const next = nextBody.get(bodies) ?? 0;
        nextBody.set(bodies, (next + 1) % bodies.length);
        return { ...request, body: bodies[next] };
      },
    },
  ];
}

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface PointMeasurement {
  readonly connections: number;
  /** Seconds of load actually applied. */
  readonly seconds: number;
  readonly ok: number;
  /** Successful (2xx) responses per second: the throughput figure. */
  readonly rps: number;
  /** Latency of 2xx responses, ms. */
  readonly latency: LatencySummary;
  readonly non2xx: number;
  readonly statusCounts: Record<string, number>;
  /** Latency of non-2xx responses, ms (empty when there were none). */
  readonly refusedLatency: LatencySummary;
  /** Non-2xx responses that carried Retry-After. */
  readonly withRetryAfter: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  /** CPU seconds per wall second used by the load generator process during the point. */
  readonly loadGenCpu: number;
  /**
   * Connections that got no response during the last max(2 s, 3 × p99) of the point: a request the
   * server never answered (nothing else stops a connection; autocannon discards requests still in
   * flight at the end without counting them).
   */
  readonly stalledConnections: number;
}

/** Percentiles by the nearest-rank method over all recorded values. */
export function summarise(values: Float64Array | readonly number[], count = values.length): LatencySummary {
  if (count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(values.slice(0, count) as ArrayLike<number>).sort();
  const at = (q: number) => sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))] as number;
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i] as number;
  return { count, mean: sum / count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[count - 1] as number };
}

class Recorder {
  private values = new Float64Array(1 << 14);
  count = 0;
  add(v: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = v;
  }
  summary(): LatencySummary {
    return summarise(this.values, this.count);
  }
}

export async function measurePoint(baseUrl: string, request: RequestSpec, connections: number, seconds: number): Promise<PointMeasurement> {
  const ok = new Recorder();
  const refused = new Recorder();
  const statusCounts: Record<string, number> = {};
  let withRetryAfter = 0;
  const lastResponse = new Map<unknown, number>();
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();

  const instance = autocannon({
    url: `${baseUrl}${request.path}`,
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    ...(request.bodies?.length ? { requests: rotating(request.bodies) } : {}),
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 30,
    // autocannon notices the end of `duration` only at a sample tick (1 s by default).
    sampleInt: 100,
    setupClient: (client) => {
      client.on('headers', (head) => {
        if (head.statusCode >= 200 && head.statusCode < 300) return;
        for (let i = 0; i < head.headers.length; i += 2) {
          if ((head.headers[i] as string).toLowerCase() === 'retry-after') {
            withRetryAfter++;
            break;
          }
        }
      });
    },
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    lastResponse.set(_client, performance.now());
    statusCounts[statusCode] = (statusCounts[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) ok.add(responseTimeMs);
    else refused.add(responseTimeMs);
  });
  const startedAt = performance.now();
  const result = await instance;
  const endedAt = performance.now();

  const wallSeconds = Number(process.hrtime.bigint() - wallBefore) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const applied = result.duration > 0 ? result.duration : seconds;
  const latency = ok.summary();
  const quietFor = Math.max(2000, 3 * Math.max(latency.p99, refused.summary().p99));
  let stalledConnections = 0;
  if (endedAt - startedAt > quietFor) {
    const answered = [...lastResponse.values()].filter((t) => endedAt - t <= quietFor).length;
    stalledConnections = Math.max(0, connections - answered);
  }
  return {
    connections,
    seconds: applied,
    ok: ok.count,
    rps: ok.count / applied,
    latency,
    non2xx: refused.count,
    statusCounts,
    refusedLatency: refused.summary(),
    withRetryAfter,
    errors: result.errors,
    timeouts: result.timeouts,
    loadGenCpu: (cpu.user + cpu.system) / 1e6 / wallSeconds,
    stalledConnections,
  };
}

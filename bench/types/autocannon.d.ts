/**
 * Minimal local types for autocannon@8 (the package ships none): only what bench/load.ts uses.
 * See node_modules/autocannon/README.md for the full option list.
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Histogram {
      readonly min: number;
      readonly max: number;
      readonly average: number;
      readonly mean: number;
      readonly stddev: number;
      readonly total: number;
      readonly p50: number;
      readonly p90: number;
      readonly p99: number;
    }

    interface Result {
      readonly title?: string;
      readonly url: string;
      readonly requests: Histogram;
      readonly latency: Histogram;
      readonly throughput: Histogram;
      /** Seconds. */
      readonly duration: number;
      readonly errors: number;
      readonly timeouts: number;
      readonly mismatches: number;
      readonly non2xx: number;
      readonly resets: number;
      readonly connections: number;
      readonly pipelining: number;
      readonly '1xx': number;
      readonly '2xx': number;
      readonly '3xx': number;
      readonly '4xx': number;
      readonly '5xx': number;
      readonly statusCodeStats: Record<string, { count: number }>;
      readonly start: Date;
      readonly finish: Date;
    }

    /** What the parser hands to a client's 'headers' listener: raw header list, name/value alternating. */
    interface ResponseHead {
      readonly statusCode: number;
      readonly headers: readonly string[];
    }

    interface Client extends EventEmitter {
      on(event: 'headers', listener: (head: ResponseHead) => void): this;
      on(event: 'body', listener: (body: Buffer) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
      setHeaders(headers: Record<string, string> | undefined): void;
      setBody(body: string | Buffer | undefined): void;
    }

    /** One request of `Options.requests`: what it is sent with, rebuilt per request when it has `setupRequest`. */
    interface RequestParams {
      method?: Options['method'];
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
      setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams;
    }

    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      amount?: number;
      /** Seconds. */
      timeout?: number;
      /** Milliseconds between samples; the run also checks for its end only this often. */
      sampleInt?: number;
      pipelining?: number;
      method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS';
      headers?: Record<string, string>;
      body?: string | Buffer;
      title?: string;
      bailout?: number;
      excludeErrorStats?: boolean;
      setupClient?: (client: Client) => void;
      /** Each connection sends these in turn instead of one fixed request. */
      requests?: RequestParams[];
      skipAggregateResult?: boolean;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      stop(): void;
      on(event: 'response', listener: (client: Client, statusCode: number, resBytes: number, responseTimeMs: number) => void): this;
      on(event: 'done', listener: (result: Result) => void): this;
      on(event: 'reqError', listener: (error: Error) => void): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  function autocannon(options: autocannon.Options, callback: (error: Error | null, result: autocannon.Result) => void): autocannon.Instance;

  export = autocannon;
}

import { PqsealError, RequestError, errorFromResponse, type CallKind } from './errors.js';

/**
 * HTTP for the SDK: global `fetch` (or the one given), a timeout per attempt (AbortController),
 * retries with exponential backoff and jitter that honour `Retry-After`, and decoding of the three
 * response shapes the API family uses.
 *
 * Retry rule (idempotency):
 * - 429 and 503 are always safe to retry: the server refused before doing the work.
 * - A connection that was never established (refused, DNS failure) is always safe to retry.
 * - 500, 502, 504, a timeout or a connection lost after the request went out may come after the
 *   server did the work. Such a failure is retried only for calls that are safe to repeat:
 *   decrypt, decrypt-verify, revoke/restore (idempotent by design), every GET and the login call.
 *   encrypt and sign-encrypt are not repeated then, because each call makes a new envelope; a repeat
 *   would be harmless (the first envelope is simply never used) but not invisible (two audit
 *   records), so it is opt-in with `retry.retryUnsafe: true`.
 * - Only statuses listed in `retry.retryOn` are retried at all, and never more than
 *   `retry.maxAttempts` attempts in total (default 1: no retries).
 */

export interface RetryOptions {
  /** Attempts in total, the first included. Default 1 (no retries). */
  readonly maxAttempts?: number;
  /** Base delay of the exponential backoff in ms. Default 200. */
  readonly backoffMs?: number;
  /** Upper bound of one backoff delay in ms. Default 10 000. */
  readonly maxBackoffMs?: number;
  /** HTTP statuses that may be retried. Default [429, 500, 502, 503, 504]. */
  readonly retryOn?: readonly number[];
  /** Do not wait longer than this for a `Retry-After`; give up instead. Default 60 000 ms. */
  readonly maxRetryAfterMs?: number;
  /** Also repeat encrypt / sign-encrypt after a failure the server may have processed. Default false. */
  readonly retryUnsafe?: boolean;
  /** Called before each retry (for logging or metrics). */
  readonly onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: PqsealError;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRY_ON: readonly number[] = [429, 500, 502, 503, 504];

export interface TransportOptions {
  readonly baseUrl: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly retry: RetryOptions;
  readonly headers: Readonly<Record<string, string>>;
  readonly userAgent: string | undefined;
}

export interface RequestSpec {
  readonly method: 'GET' | 'POST';
  /** Path below the base URL, with a leading slash. */
  readonly path: string;
  /** A full URL instead of baseUrl + path (an identity pool elsewhere). */
  readonly absoluteUrl?: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly contentType?: string;
  readonly kind: CallKind;
  /** Safe to repeat even if the server may already have done it. */
  readonly idempotent: boolean;
  readonly signal?: AbortSignal | undefined;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly requestId: string | undefined;
}

/** Codes of connection failures that happen before anything was sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class Transport {
  constructor(readonly options: TransportOptions) {}

  url(path: string, query?: RequestSpec['query']): string {
    const base = this.options.baseUrl.replace(/\/+$/, '');
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return `${base}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends with timeout and retries; resolves with any HTTP answer that is not retried. */
  async send(spec: RequestSpec): Promise<RawResponse> {
    const retry = this.options.retry;
    const maxAttempts = Math.max(1, Math.floor(retry.maxAttempts ?? 1));
    const retryOn = retry.retryOn ?? DEFAULT_RETRY_ON;
    // One id for the logical call, repeated on every attempt, so the server log ties them together.
    const requestId = newRequestId();
    for (let attempt = 1; ; attempt++) {
      let outcome: { response: RawResponse } | { error: PqsealError; sent: boolean };
      try {
        outcome = { response: await this.attempt(spec, requestId) };
      } catch (e) {
        if (!(e instanceof AttemptError)) throw e;
        outcome = { error: e.error, sent: e.sent };
      }
      let failure: PqsealError;
      let safe: boolean;
      let retryAfterMs: number | undefined;
      if ('response' in outcome) {
        const { status } = outcome.response;
        if (!retryOn.includes(status)) return outcome.response;
        retryAfterMs = parseRetryAfter(outcome.response.headers.get('retry-after'));
        safe = status === 429 || status === 503 || spec.idempotent || retry.retryUnsafe === true;
        if (attempt >= maxAttempts || !safe) return outcome.response;
        failure = decodeError(spec.kind, outcome.response);
      } else {
        failure = outcome.error;
        safe = !outcome.sent || spec.idempotent || retry.retryUnsafe === true;
        if (attempt >= maxAttempts || !safe || failure.code === 'ABORTED') throw failure;
      }
      if (retryAfterMs !== undefined && retryAfterMs > (retry.maxRetryAfterMs ?? 60_000)) {
        if ('response' in outcome) return outcome.response;
        throw failure;
      }
      const delayMs = Math.max(retryAfterMs ?? 0, backoff(attempt, retry));
      retry.onRetry?.({ attempt, delayMs, error: failure });
      await sleep(delayMs, spec.signal);
    }
  }

  private async attempt(spec: RequestSpec, requestId: string | undefined): Promise<RawResponse> {
    if (spec.signal?.aborted) throw new AttemptError(aborted(spec.signal), false);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = () => controller.abort();
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (this.options.userAgent !== undefined) headers['user-agent'] = this.options.userAgent;
    if (requestId !== undefined) headers['x-request-id'] = requestId;
    Object.assign(headers, spec.headers);
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['content-type'] = spec.contentType ?? 'application/json';
      body = JSON.stringify(spec.body);
    }
    try {
      const init: RequestInit = { method: spec.method, headers, signal: controller.signal };
      if (body !== undefined) init.body = body;
      let res: Response;
      try {
        res = await this.options.fetch(spec.absoluteUrl ?? this.url(spec.path, spec.query), init);
      } catch (e) {
        if (timedOut) throw new AttemptError(timeout(this.options.timeoutMs, e), true);
        if (spec.signal?.aborted) throw new AttemptError(aborted(spec.signal), false);
        const code = networkCode(e);
        const sent = !NOT_SENT.has(code);
        throw new AttemptError(
          new RequestError(`cannot reach ${this.options.baseUrl}: ${describe(e)}`, { code: 'NETWORK_ERROR', details: { cause: code }, cause: e }),
          sent,
        );
      }
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        if (timedOut) throw new AttemptError(timeout(this.options.timeoutMs, e), true);
        if (spec.signal?.aborted) throw new AttemptError(aborted(spec.signal), true);
        throw new AttemptError(
          new RequestError(`the connection broke while reading the answer: ${describe(e)}`, { code: 'NETWORK_ERROR', status: res.status, cause: e }),
          true,
        );
      }
      return { status: res.status, headers: res.headers, text, requestId: res.headers.get('x-request-id') ?? undefined };
    } finally {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    }
  }
}

class AttemptError extends Error {
  constructor(
    readonly error: PqsealError,
    readonly sent: boolean,
  ) {
    super(error.message);
  }
}

function timeout(ms: number, cause: unknown): RequestError {
  return new RequestError(`no answer within ${ms} ms`, { code: 'TIMEOUT', cause });
}

function aborted(signal: AbortSignal): RequestError {
  return new RequestError('the call was aborted', { code: 'ABORTED', cause: signal.reason });
}

function networkCode(e: unknown): string {
  let cur: unknown = e;
  for (let depth = 0; depth < 4 && cur && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return 'UNKNOWN';
}

function describe(e: unknown): string {
  const cause = (e as { cause?: { message?: unknown } })?.cause?.message;
  const message = (e as { message?: unknown })?.message;
  return String(cause ?? message ?? e);
}

/** Exponential backoff with "equal jitter": between half and all of min(max, base·2^(n-1)). */
export function backoff(attempt: number, retry: RetryOptions): number {
  const base = retry.backoffMs ?? 200;
  const cap = retry.maxBackoffMs ?? 10_000;
  const exp = Math.min(cap, base * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

/** `Retry-After` as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function newRequestId(): string | undefined {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : undefined;
}

// ---------------------------------------------------------------------------------------------
// Response shapes

/**
 * The success body of an API answer, in any of the three shapes: plain JSON, the Managed wrapper
 * `{statusCode, body: {...}}`, or the older wrapper whose `body` is a JSON string. Error answers (in
 * any shape) become typed errors.
 */
export function decodeResponse(kind: CallKind, raw: RawResponse): Record<string, unknown> {
  const { status, body } = unwrap(raw);
  if (status >= 400) throw errorFor(kind, status, body, raw);
  if (!isObject(body)) throw new RequestError('the answer is not a JSON object', { code: 'INVALID_RESPONSE', status, requestId: raw.requestId });
  if (isObject(body.error)) throw errorFor(kind, status >= 400 ? status : 500, body, raw);
  return body;
}

/** The typed error for an HTTP answer known to be an error (used by the retry loop and decoding). */
export function decodeError(kind: CallKind, raw: RawResponse): PqsealError {
  const { status, body } = unwrap(raw);
  return errorFor(kind, status >= 400 ? status : raw.status, body, raw);
}

function unwrap(raw: RawResponse): { status: number; body: unknown } {
  let json: unknown;
  try {
    json = raw.text === '' ? undefined : JSON.parse(raw.text);
  } catch {
    if (raw.status >= 400) return { status: raw.status, body: undefined };
    throw new RequestError(`the answer is not JSON (HTTP ${raw.status})`, { code: 'INVALID_RESPONSE', status: raw.status, requestId: raw.requestId });
  }
  if (isObject(json) && typeof json.statusCode === 'number' && 'body' in json) {
    let body = json.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        body = { message: body };
      }
    }
    // The HTTP status wins when it is an error; older gateways answer 200 with the real status inside.
    return { status: raw.status >= 400 ? raw.status : json.statusCode, body };
  }
  return { status: raw.status, body: json };
}

const HOSTED_BAD_CREDENTIALS = /username and\/or password incorrect/i;

function errorFor(kind: CallKind, status: number, body: unknown, raw: RawResponse): PqsealError {
  const err = isObject(body) && isObject(body.error) ? body.error : isObject(body) ? body : {};
  const code = typeof err.code === 'string' ? err.code : typeof err.__type === 'string' ? err.__type : `HTTP_${status}`;
  const message = typeof err.message === 'string' ? err.message : typeof err.Message === 'string' ? err.Message : `HTTP ${status}`;
  const extra = { requestId: raw.requestId, details: err.details, retryAfterMs: parseRetryAfter(raw.headers.get('retry-after')) };
  // The hosted service answers bad credentials with a 500 and this message; it is still an auth error.
  if (status === 500 && HOSTED_BAD_CREDENTIALS.test(message)) return errorFromResponse(kind, 401, 'NOT_AUTHORIZED', message, extra);
  return errorFromResponse(kind, status, code, message, extra);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

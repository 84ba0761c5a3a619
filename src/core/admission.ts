/**
 * Load shedding before a request is read or authenticated. A request is refused (503 SERVICE_BUSY,
 * Retry-After) when the crypto queue is full, or when admitting its body would take the bodies in
 * progress past `maxInFlightBytes` — each in-flight request holds several copies of its payload
 * (body, parsed string, worker copy, ciphertext, envelope), so this bounds memory by size, not only
 * by count. One request is always admitted when nothing else is in flight, so any body up to the
 * body limit can be served.
 */

export interface AdmissionOptions {
  /** 0 = no byte limit. */
  readonly maxInFlightBytes: number;
  /** Charged for a body of unknown length (chunked): the largest it may be. */
  readonly bodyLimitBytes: number;
  /** True while new crypto tasks would be refused. */
  readonly saturated: () => boolean;
}

export class Admission {
  private bytes = 0;
  private requests = 0;

  constructor(private readonly options: AdmissionOptions) {}

  /** Returns the release function when admitted, undefined when the request must be refused. */
  admit(contentLength: number | undefined): (() => void) | undefined {
    if (this.options.saturated()) return undefined;
    const charge = Math.min(contentLength ?? this.options.bodyLimitBytes, this.options.bodyLimitBytes);
    const limit = this.options.maxInFlightBytes;
    if (limit > 0 && this.requests > 0 && this.bytes + charge > limit) return undefined;
    this.bytes += charge;
    this.requests++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.bytes -= charge;
      this.requests--;
    };
  }

  get inFlight(): { readonly requests: number; readonly bytes: number } {
    return { requests: this.requests, bytes: this.bytes };
  }
}

/**
 * Load shedding for the routes that run crypto, in two steps.
 *
 * 1. Before anything is read or checked, `admit` refuses (503 SERVICE_BUSY, Retry-After) when the
 *    crypto queue is full. The ticket it hands out holds no bytes.
 * 2. Only once the caller is authenticated does the ticket `charge` body bytes: each in-flight request
 *    holds several copies of its payload (body, parsed string, worker copy, ciphertext, envelope), so
 *    the bodies in progress are bounded by size, globally (`maxInFlightBytes`) and per client address
 *    (`maxInFlightBytesPerClient`), so that no one address, idle or not, can hold all of it. A charge
 *    is refused when it would cross a limit while other requests hold bytes under it: a request alone
 *    under a limit is always admitted, so any body up to the body limit can be served.
 *
 * Nobody unauthenticated holds any capacity, and a body is charged once the caller is known, as its
 * bytes arrive: a client that announces a large body and sends nothing holds nothing.
 */

export interface AdmissionOptions {
  /** 0 = no global byte limit. */
  readonly maxInFlightBytes: number;
  /** 0 = no per-address byte limit. */
  readonly maxInFlightBytesPerClient: number;
  /** True while new crypto tasks would be refused. */
  readonly saturated: () => boolean;
}

interface Holding {
  bytes: number;
  requests: number;
}

export class Admission {
  private readonly total: Holding = { bytes: 0, requests: 0 };
  private readonly clients = new Map<string, Holding>();

  constructor(private readonly options: AdmissionOptions) {}

  /** Step 1: a ticket holding no bytes, or undefined when the request must be refused. */
  admit(client: string): AdmissionTicket | undefined {
    if (this.options.saturated()) return undefined;
    let holding = this.clients.get(client);
    if (!holding) {
      holding = { bytes: 0, requests: 0 };
      this.clients.set(client, holding);
    }
    holding.requests++;
    this.total.requests++;
    return new AdmissionTicket(this.total, holding, this.options, () => {
      if (holding.requests === 0) this.clients.delete(client);
    });
  }

  get inFlight(): { readonly requests: number; readonly bytes: number } {
    return { requests: this.total.requests, bytes: this.total.bytes };
  }

  /** Bytes and requests one client address holds now. */
  heldBy(client: string): { readonly requests: number; readonly bytes: number } {
    const holding = this.clients.get(client);
    return { requests: holding?.requests ?? 0, bytes: holding?.bytes ?? 0 };
  }
}

export class AdmissionTicket {
  private bytes = 0;
  private released = false;

  constructor(
    private readonly total: Holding,
    private readonly client: Holding,
    private readonly options: AdmissionOptions,
    private readonly onRelease: () => void,
  ) {}

  /** Step 2: true when `bytes` more may be held, and then holds them until release. */
  charge(bytes: number): boolean {
    if (this.released) return false;
    if (crosses(this.total, this.bytes, bytes, this.options.maxInFlightBytes)) return false;
    if (crosses(this.client, this.bytes, bytes, this.options.maxInFlightBytesPerClient)) return false;
    this.bytes += bytes;
    this.total.bytes += bytes;
    this.client.bytes += bytes;
    return true;
  }

  /** Returns everything the ticket holds; idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.total.bytes -= this.bytes;
    this.client.bytes -= this.bytes;
    this.total.requests--;
    this.client.requests--;
    this.bytes = 0;
    this.onRelease();
  }
}

function crosses(holding: Holding, mine: number, more: number, limit: number): boolean {
  return limit > 0 && holding.bytes - mine > 0 && holding.bytes + more > limit;
}

export interface CoalescerOptions<C, I, R> {
  /** Items per batch at most. */
  readonly maxItems: number;
  /** How long an item may wait for company while its lane has `maxInFlight` batches out. */
  readonly windowMs: number;
  /** Batches of one lane out at once before new items wait for one to come back. */
  readonly maxInFlight: number;
  /** Runs one batch: one result per item, in order. */
  readonly dispatch: (context: C, items: readonly I[]) => Promise<readonly R[]>;
  /** Told the size of every batch dispatched (metrics). */
  readonly onBatch?: ((items: number) => void) | undefined;
}

interface Waiting<I, R> {
  readonly item: I;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane<C, I, R> {
  readonly context: C;
  waiting: Waiting<I, R>[];
  timer: NodeJS.Timeout | undefined;
  inFlight: number;
}

/**
 * Gathers items that arrive while work of their kind is already running into one batch, as Nagle's
 * algorithm gathers bytes: an item of a lane with fewer than `maxInFlight` batches out is sent at
 * once (alone, at low load: no added latency); otherwise it waits until one of the lane's batches
 * comes back, the window passes or the batch is full. Items of a lane share a context (the key they
 * are sealed with, say); lanes never mix.
 */
export class Coalescer<C, I, R> {
  private readonly lanes = new Map<string, Lane<C, I, R>>();

  constructor(private readonly options: CoalescerOptions<C, I, R>) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1) throw new RangeError('maxItems must be a positive integer');
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
  }

  submit(key: string, context: C, item: I): Promise<R> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { context, waiting: [], timer: undefined, inFlight: 0 };
      this.lanes.set(key, lane);
    }
    const target = lane;
    const result = new Promise<R>((resolve, reject) => target.waiting.push({ item, resolve, reject }));
    if (target.waiting.length >= this.options.maxItems || target.inFlight < this.options.maxInFlight) this.flush(key, target);
    else target.timer ??= setTimeout(() => this.flush(key, target), this.options.windowMs);
    return result;
  }

  /** Runs several items as one batch now, outside any lane (one caller's batch API call). */
  runNow(context: C, items: readonly I[]): Promise<readonly R[]> {
    this.options.onBatch?.(items.length);
    return this.options.dispatch(context, items);
  }

  private flush(key: string, lane: Lane<C, I, R>): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = undefined;
    while (lane.waiting.length > 0) {
      const batch = lane.waiting.splice(0, this.options.maxItems);
      lane.inFlight++;
      this.runNow(
        lane.context,
        batch.map((w) => w.item),
      )
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => this.batchReturned(key, lane));
    }
  }

  /** What waited while the lane's batches were out goes now, together; an idle lane is forgotten. */
  private batchReturned(key: string, lane: Lane<C, I, R>): void {
    lane.inFlight--;
    if (lane.waiting.length > 0) this.flush(key, lane);
    else if (lane.inFlight === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }
}

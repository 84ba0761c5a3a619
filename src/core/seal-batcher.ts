import type { PermissionGrant } from '../envelope/index.js';
import type { CryptoPool } from './crypto-pool.js';
import type { SealBatchTask, SealRecipientRef, SealResult, SealSignerRef } from './crypto-tasks.js';
import type { JsonRoom } from './results.js';

export interface SealBatcherOptions {
  /** Envelopes per batch at most; 1 seals every request alone (one signature and one encapsulation each). */
  readonly maxItems: number;
  /** How long a request may wait for others to join its batch while the lane has a batch out. */
  readonly windowMs: number;
  /** Told the size of every batch handed to the pool (metrics). */
  readonly onBatch?: ((envelopes: number) => void) | undefined;
}

export interface SealItem {
  readonly plaintext: string;
  readonly permissions: readonly PermissionGrant[];
  readonly room: JsonRoom;
}

interface Waiting {
  readonly item: SealItem;
  readonly resolve: (result: SealResult) => void;
  readonly reject: (error: unknown) => void;
}

interface Lane {
  readonly recipient: SealRecipientRef;
  readonly signer: SealSignerRef | undefined;
  waiting: Waiting[];
  timer: NodeJS.Timeout | undefined;
  /** Batches of this lane handed to the pool and not yet back. */
  inFlight: number;
}

/**
 * Groups the seal requests of one organisation into v2 batches (docs/envelope.md §Envelope v2):
 * requests that share a recipient key and a signer are sealed by one task, with one encapsulation
 * and one signature. The window adapts to load, as Nagle's algorithm does: a request of a lane with
 * no batch in flight is sent at once (a batch of one at low load, no added latency); otherwise it
 * waits until the lane's batch comes back, the window passes (so a busy lane keeps several workers
 * busy) or the batch is full. Whether a worker thread is idle says nothing about whether a core is:
 * on a small machine the event loop, the audit writer and the workers share the cores, and every
 * signature saved is CPU the other threads get.
 */
export class SealBatcher {
  private readonly lanes = new Map<string, Lane>();
  private running = 0;

  constructor(
    private readonly pool: CryptoPool,
    private readonly options: SealBatcherOptions,
  ) {
    if (!Number.isInteger(options.maxItems) || options.maxItems < 1) throw new RangeError('maxItems must be a positive integer');
  }

  seal(recipient: SealRecipientRef, signer: SealSignerRef | undefined, item: SealItem): Promise<SealResult> {
    const key = laneKey(recipient, signer);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { recipient, signer, waiting: [], timer: undefined, inFlight: 0 };
      this.lanes.set(key, lane);
    }
    const target = lane;
    const result = new Promise<SealResult>((resolve, reject) => target.waiting.push({ item, resolve, reject }));
    if (target.waiting.length >= this.options.maxItems || target.inFlight === 0) this.flush(key, target);
    else target.timer ??= setTimeout(() => this.flush(key, target), this.options.windowMs);
    return result;
  }

  /** Seals several items as one batch now, bypassing the window (the batch API: one signature per call). */
  sealNow(recipient: SealRecipientRef, signer: SealSignerRef | undefined, items: readonly SealItem[]): Promise<readonly SealResult[]> {
    return this.dispatch({ recipient, signer, items });
  }

  private flush(key: string, lane: Lane): void {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = undefined;
    while (lane.waiting.length > 0) {
      const batch = lane.waiting.splice(0, this.options.maxItems);
      lane.inFlight++;
      this.dispatch({ recipient: lane.recipient, signer: lane.signer, items: batch.map((w) => w.item) })
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i] as SealResult)),
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => this.batchReturned(key, lane));
    }
  }

  /** What waited while the lane's batch was out goes now, together; an idle lane is forgotten. */
  private batchReturned(key: string, lane: Lane): void {
    lane.inFlight--;
    if (lane.waiting.length > 0) this.flush(key, lane);
    else if (lane.inFlight === 0 && this.lanes.get(key) === lane) this.lanes.delete(key);
  }

  private async dispatch(task: Omit<SealBatchTask, 'op'>): Promise<readonly SealResult[]> {
    this.options.onBatch?.(task.items.length);
    this.running++;
    try {
      const { results } = await this.pool.sealBatch(task);
      return results;
    } finally {
      this.running--;
    }
  }

  /** Batches handed to the pool and not yet back. */
  get inFlight(): number {
    return this.running;
  }
}

function laneKey(recipient: SealRecipientRef, signer: SealSignerRef | undefined): string {
  const signerPart = signer ? `${signer.orgId}\u0000${signer.key.keyId}\u0000${signer.displayName}` : '';
  return `${recipient.orgId}\u0000${recipient.kemKeyId}\u0000${signerPart}`;
}

import type { PermissionGrant } from '../envelope/index.js';
import { Coalescer } from './coalescer.js';
import type { CryptoPool } from './crypto-pool.js';
import type { SealRecipientRef, SealResult, SealSignerRef } from './crypto-tasks.js';
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

interface SealContext {
  readonly recipient: SealRecipientRef;
  readonly signer: SealSignerRef | undefined;
}

/**
 * Groups the seal requests of one organisation into v2 batches (docs/envelope.md §Envelope v2):
 * requests that share a recipient key and a signer are sealed by one task, with one encapsulation
 * and one signature. One batch per lane is out at a time, so requests that arrive meanwhile go
 * together when it returns (or the window passes, so a busy lane keeps several workers busy). A
 * request alone is sent at once. Whether a worker thread is idle says nothing about whether a core
 * is: on a small machine the event loop, the audit writer and the workers share the cores, and every
 * signature saved is CPU the other threads get.
 */
export class SealBatcher {
  private readonly coalescer: Coalescer<SealContext, SealItem, SealResult>;

  constructor(pool: CryptoPool, options: SealBatcherOptions) {
    this.coalescer = new Coalescer({
      maxItems: options.maxItems,
      windowMs: options.windowMs,
      maxInFlight: 1,
      onBatch: options.onBatch,
      // A task refused as a whole (a signer the format cannot encode, say) fails each of its items alike.
      dispatch: async ({ recipient, signer }, items) => {
        const answer = await pool.sealBatch({ recipient, signer, items });
        return answer.kind === 'error' ? items.map(() => answer) : answer.results;
      },
    });
  }

  seal(recipient: SealRecipientRef, signer: SealSignerRef | undefined, item: SealItem): Promise<SealResult> {
    return this.coalescer.submit(laneKey(recipient, signer), { recipient, signer }, item);
  }

  /** Seals several items as one batch now, bypassing the window (the batch API: one signature per call). */
  sealNow(recipient: SealRecipientRef, signer: SealSignerRef | undefined, items: readonly SealItem[]): Promise<readonly SealResult[]> {
    return this.coalescer.runNow({ recipient, signer }, items);
  }
}

function laneKey(recipient: SealRecipientRef, signer: SealSignerRef | undefined): string {
  const signerPart = signer ? `${signer.orgId}\u0000${signer.key.keyId}\u0000${signer.displayName}` : '';
  return `${recipient.orgId}\u0000${recipient.kemKeyId}\u0000${signerPart}`;
}

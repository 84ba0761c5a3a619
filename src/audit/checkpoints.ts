import type { Kysely } from 'kysely';
import { utf8 } from '../crypto/bytes.js';
import type { CryptoProviders } from '../crypto/providers.js';
import type { Database } from '../store/schema.js';
import { canonicalJson } from './canonical-json.js';
import { CHECKPOINT_CONTEXT, type ServiceKeys } from './service-key.js';

/**
 * Signed checkpoints: the service signs a chain head (chain id, seq, hash, time) with its composite
 * key, so an exported chain can be checked offline against the published service key, and a chain
 * rewritten from some record on (hashes recomputed) no longer matches what was signed.
 *
 *   message   = UTF-8( JCS({"chain_id","hash","key_id","seq","signed_at","type":"pqseal-audit-checkpoint-v1"}) )
 *   signature = Composite-ML-DSA-65+Ed25519.Sign(sk_service, message, ctx = "pqseal-audit-checkpoint-v1")
 */

export const CHECKPOINT_TYPE = 'pqseal-audit-checkpoint-v1';

export interface Checkpoint {
  readonly chain_id: string;
  readonly seq: number;
  readonly hash: string;
  readonly signed_at: string;
  readonly key_id: string;
  /** base64url, no padding */
  readonly signature: string;
}

export function checkpointMessage(cp: Omit<Checkpoint, 'signature'>): Uint8Array {
  return utf8.encode(
    canonicalJson({ type: CHECKPOINT_TYPE, chain_id: cp.chain_id, seq: cp.seq, hash: cp.hash, signed_at: cp.signed_at, key_id: cp.key_id }),
  );
}

export class Checkpointer {
  private running: Promise<Checkpoint[]> = Promise.resolve([]);
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly providers: CryptoProviders,
    private readonly keys: ServiceKeys,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Signs every chain head (or only `chainId`'s) that has no checkpoint yet. A record's hash never
   * changes once written, so signing needs no transaction. Runs are serialised in this process.
   */
  run(chainId?: string): Promise<Checkpoint[]> {
    const next = this.running.catch(() => []).then(() => this.signHeads(chainId));
    this.running = next;
    return next;
  }

  /** Signs periodically until `stop()`; errors go to `onError` (the next tick tries again). */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.run().catch(onError), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async list(chainId: string): Promise<Checkpoint[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', chainId).orderBy('seq').execute();
    return rows.map((r) => ({
      chain_id: r.chain_id,
      seq: Number(r.seq),
      hash: r.hash,
      signed_at: new Date(Number(r.signed_at)).toISOString(),
      key_id: r.key_id,
      signature: Buffer.from(r.signature).toString('base64url'),
    }));
  }

  private async signHeads(chainId?: string): Promise<Checkpoint[]> {
    let q = this.db
      .selectFrom('audit_heads as h')
      .leftJoin('audit_checkpoints as c', (j) => j.onRef('c.chain_id', '=', 'h.chain_id').onRef('c.seq', '=', 'h.seq'))
      .select(['h.chain_id', 'h.seq', 'h.hash'])
      .where('c.chain_id', 'is', null)
      .orderBy('h.chain_id');
    if (chainId !== undefined) q = q.where('h.chain_id', '=', chainId);
    const heads = await q.execute();
    if (heads.length === 0) return [];
    const { keyId, key } = await this.keys.signer();
    const made: Checkpoint[] = [];
    for (const head of heads) {
      const at = this.now();
      const unsigned = { chain_id: head.chain_id, seq: Number(head.seq), hash: head.hash, signed_at: new Date(at).toISOString(), key_id: keyId };
      const signature = this.providers.composite.sign(key, checkpointMessage(unsigned), utf8.encode(CHECKPOINT_CONTEXT));
      await this.db
        .insertInto('audit_checkpoints')
        .values({ chain_id: unsigned.chain_id, seq: unsigned.seq, hash: unsigned.hash, signed_at: at, key_id: keyId, signature })
        .onConflict((oc) => oc.doNothing())
        .execute();
      made.push({ ...unsigned, signature: Buffer.from(signature).toString('base64url') });
      // Each signature is a millisecond or two of CPU: let requests through between chains.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return made;
  }
}

import type { Kysely } from 'kysely';
import { utf8 } from '../crypto/bytes.js';
import type { CompositeVerifyingKey } from '../crypto/composite-signature.js';
import type { CryptoProviders } from '../crypto/providers.js';
import type { Database } from '../ports/store-schema.js';
import { checkpointLinkProblem, checkpointSignatureProblem } from './checkpoint-checks.js';
import { appendToSink, readCheckpointLines } from './checkpoint-sink.js';
import { chainRecords, lockChains, recordAt, writeTransaction } from './chain-store.js';
import { checkpointFromRow, checkpointHash, checkpointMessage, sameCheckpoint, type Checkpoint, type UnsignedCheckpoint } from './checkpoints.js';
import { AuditChainBrokenError, type RefusedChain } from './errors.js';
import { GENESIS_HASH } from './record.js';
import { CHECKPOINT_CONTEXT, type ServiceKeys } from './service-key.js';
import { verifyChain, type BrokenLink } from './verify.js';

/**
 * Makes the signed checkpoints of changed chain heads — and refuses to sign a head it cannot vouch
 * for. Before signing, it verifies the chain from its anchor to the head, incrementally (cost
 * proportional to the records since the anchor):
 *
 * - the anchor is the newest checkpoint this process made or checked for the chain, else the newest
 *   one published to the sink (read once per process), else the newest one in the store (its
 *   signature verified), else the start of the chain;
 * - a checkpoint the process knows of that is gone from the store, a broken link between the
 *   checkpoints since the anchor, a record at the anchor with another hash, or a record after it that
 *   does not chain up to the head: the head is not signed, an error is logged with the stable message
 *   below, and the run fails with `AuditChainBrokenError` (the other chains are still signed).
 *
 * Made checkpoints are chained (each signs its predecessor's hash) and appended to the sink.
 */

export const CHAIN_REFUSED_MESSAGE = 'audit chain failed verification; checkpoint refused';

/** The subset of a pino logger used here. */
export interface CheckpointLog {
  error(object: object, message: string): void;
  warn(object: object, message: string): void;
}

/** Without the server's logger (CLI): one line on stderr. */
export const STDERR_LOG: CheckpointLog = {
  error: (object, message) => process.stderr.write(`pqseal: error: ${message} ${JSON.stringify(object)}\n`),
  warn: (object, message) => process.stderr.write(`pqseal: warning: ${message} ${JSON.stringify(object)}\n`),
};

export interface CheckpointerOptions {
  readonly now?: () => number;
  /** PQSEAL_CHECKPOINT_SINK: a file every checkpoint is appended to. */
  readonly sink?: string | undefined;
  /**
   * Runs a periodic round only if no other node runs one (the store's leader lock, `Store.exclusive`);
   * without it every round runs.
   */
  readonly leader?: <T>(fn: () => Promise<T>) => Promise<{ ran: true; value: T } | { ran: false }>;
}

interface Head {
  readonly chain_id: string;
  readonly seq: number;
  readonly hash: string;
}

export class Checkpointer {
  private running: Promise<Checkpoint[]> = Promise.resolve([]);
  private timer: NodeJS.Timeout | undefined;
  /** Per chain, the newest checkpoint this process made, checked, or read from the sink. */
  private readonly anchors = new Map<string, Checkpoint>();
  private sinkRead: Promise<void> | undefined;
  private log: CheckpointLog = STDERR_LOG;
  private readonly now: () => number;
  private readonly sink: string | undefined;
  private readonly leader: CheckpointerOptions['leader'];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly providers: CryptoProviders,
    private readonly keys: ServiceKeys,
    options: CheckpointerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sink = options.sink;
    this.leader = options.leader;
  }

  /** Where refusals are reported (the server passes its logger). */
  useLogger(log: CheckpointLog): void {
    this.log = log;
  }

  /**
   * Signs every chain head (or only `chainId`'s) that has no checkpoint yet and verifies. Rejects
   * with `AuditChainBrokenError` when a chain was refused, after signing the others. Runs are
   * serialised in this process.
   */
  run(chainId?: string): Promise<Checkpoint[]> {
    const next = this.running.catch(() => []).then(() => this.signHeads(chainId));
    this.running = next;
    return next;
  }

  /** `run()` while holding the leader lock; resolves [] without running when another node holds it. */
  async runAsLeader(): Promise<Checkpoint[]> {
    if (!this.leader) return this.run();
    const result = await this.leader(() => this.run());
    return result.ran ? result.value : [];
  }

  /** Signs periodically until `stop()`; refusals are logged by the run itself, other errors go to `onError`. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.runAsLeader().catch((e: unknown) => (e instanceof AuditChainBrokenError ? undefined : onError(e))), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async list(chainId: string): Promise<Checkpoint[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', chainId).orderBy('seq').execute();
    return rows.map(checkpointFromRow);
  }

  private async signHeads(chainId?: string): Promise<Checkpoint[]> {
    let q = this.db
      .selectFrom('audit_heads as h')
      .leftJoin('audit_checkpoints as c', (j) => j.onRef('c.chain_id', '=', 'h.chain_id').onRef('c.seq', '=', 'h.seq'))
      .select(['h.chain_id', 'h.seq', 'h.hash'])
      .where('c.chain_id', 'is', null)
      .orderBy('h.chain_id');
    if (chainId !== undefined) q = q.where('h.chain_id', '=', chainId);
    const heads = (await q.execute()).map((h) => ({ chain_id: h.chain_id, seq: Number(h.seq), hash: h.hash }));
    if (heads.length === 0) return [];
    const verifyingKeys = await this.keys.verifyingKeys();
    await this.readSink(verifyingKeys);
    const { keyId, key } = await this.keys.signer();
    const made: Checkpoint[] = [];
    const refused: RefusedChain[] = [];
    for (const head of heads) {
      const checked = await this.verifyUpToHead(head, verifyingKeys);
      if ('broken' in checked) {
        refused.push({ chain_id: head.chain_id, ...checked.broken });
        this.log.error(
          { code: 'AUDIT_CHAIN_BROKEN', chain_id: head.chain_id, seq: checked.broken.seq, reason: checked.broken.reason, detail: checked.broken.detail },
          CHAIN_REFUSED_MESSAGE,
        );
        continue;
      }
      const base = checked.anchor;
      const at = this.now();
      const unsigned: UnsignedCheckpoint = {
        chain_id: head.chain_id,
        seq: head.seq,
        hash: head.hash,
        signed_at: new Date(at).toISOString(),
        key_id: keyId,
        format: 2,
        prev: base ? checkpointHash(base) : null,
      };
      const signature = this.providers.composite.sign(key, checkpointMessage(unsigned), utf8.encode(CHECKPOINT_CONTEXT));
      const checkpoint: Checkpoint = { ...unsigned, signature: Buffer.from(signature).toString('base64url') };
      if (await this.store(checkpoint, base, at, signature)) {
        this.anchors.set(head.chain_id, checkpoint);
        made.push(checkpoint);
      }
      // Each signature is a millisecond or two of CPU: let requests through between chains.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (this.sink !== undefined) {
      try {
        await appendToSink(this.sink, made);
      } catch (error) {
        // The checkpoints are stored; only their publication failed. Loud, and the run fails.
        this.log.error(
          { code: 'CHECKPOINT_SINK_UNWRITABLE', sink: this.sink, checkpoints: made.length, err: error },
          'checkpoints could not be appended to PQSEAL_CHECKPOINT_SINK',
        );
        throw error;
      }
    }
    if (refused.length > 0) throw new AuditChainBrokenError(refused, made);
    return made;
  }

  /**
   * Inserts the checkpoint unless another process checkpointed the chain since `base` was read
   * (then this round leaves the chain to it: its checkpoint is checked on the next run).
   */
  private store(cp: Checkpoint, base: Checkpoint | null, at: number, signature: Uint8Array): Promise<boolean> {
    return writeTransaction(this.db, async (trx) => {
      await lockChains(trx, [cp.chain_id]);
      const newest = await trx
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('chain_id', '=', cp.chain_id)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const current = newest ? checkpointFromRow(newest) : null;
      if (current === null ? base !== null : base === null || !sameCheckpoint(current, base)) return false;
      await trx
        .insertInto('audit_checkpoints')
        .values({ chain_id: cp.chain_id, seq: cp.seq, hash: cp.hash, signed_at: at, key_id: cp.key_id, signature, format: 2, prev: cp.prev })
        .execute();
      return true;
    });
  }

  /** The newest checkpoint the chain can be trusted from, with the records after it verified up to the head. */
  private async verifyUpToHead(head: Head, keys: ReadonlyMap<string, CompositeVerifyingKey>): Promise<{ anchor: Checkpoint | null } | { broken: BrokenLink }> {
    const check = { composite: this.providers.composite, serviceKeys: keys };
    const known = this.anchors.get(head.chain_id);
    let since: Checkpoint[];
    let before: Checkpoint | null;
    if (known) {
      const rows = await this.db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('chain_id', '=', head.chain_id)
        .where('seq', '>=', known.seq)
        .orderBy('seq')
        .execute();
      const stored = rows.map(checkpointFromRow);
      if (!stored[0] || !sameCheckpoint(stored[0], known)) {
        return {
          broken: {
            seq: known.seq,
            reason: 'CHECKPOINT_MISSING',
            detail: `the checkpoint of record ${known.seq} made or published earlier is no longer in the store (checkpoints deleted or replaced)`,
          },
        };
      }
      before = known;
      since = stored.slice(1);
    } else {
      // Nothing known: trust the newest stored checkpoint once its signature and its link to the one before it check out.
      const rows = await this.db.selectFrom('audit_checkpoints').selectAll().where('chain_id', '=', head.chain_id).orderBy('seq', 'desc').limit(2).execute();
      const [newest, previous] = rows.map(checkpointFromRow);
      before = previous ?? null;
      since = newest ? [newest] : [];
    }
    for (const cp of before && !known ? [before, ...since] : since) {
      const problem = checkpointSignatureProblem(cp, head.chain_id, check);
      if (problem) return { broken: problem };
    }
    const linkProblem = checkpointLinkProblem(since, before);
    if (linkProblem) return { broken: linkProblem };
    const anchor = since[since.length - 1] ?? before;
    if (anchor && anchor.seq >= head.seq) {
      return {
        broken: {
          seq: head.seq,
          reason: 'HEAD_MISMATCH',
          detail: `the chain head is record ${head.seq}, but record ${anchor.seq} was already signed (records deleted at the end)`,
        },
      };
    }
    if (anchor) {
      const record = await recordAt(this.db, head.chain_id, anchor.seq);
      if (!record || record.hash !== anchor.hash) {
        return {
          broken: {
            seq: anchor.seq,
            reason: 'CHECKPOINT_MISMATCH',
            detail: `record ${anchor.seq} is not the record its checkpoint signed (the chain was rewritten)`,
          },
        };
      }
    }
    const fromSeq = (anchor?.seq ?? 0) + 1;
    const report = await verifyChain({
      chainId: head.chain_id,
      records: chainRecords(this.db, head.chain_id, fromSeq),
      checkpoints: [],
      composite: this.providers.composite,
      serviceKeys: keys,
      head,
      fromSeq,
      startHash: anchor?.hash ?? GENESIS_HASH,
      toSeq: head.seq,
    });
    if (report.first_broken) return { broken: report.first_broken };
    if (anchor) this.anchors.set(head.chain_id, anchor);
    return { anchor: anchor ?? null };
  }

  /** Once per process: the newest valid checkpoint of each chain published to the sink. */
  private readSink(keys: ReadonlyMap<string, CompositeVerifyingKey>): Promise<void> {
    if (this.sink === undefined) return Promise.resolve();
    const sink = this.sink;
    this.sinkRead ??= (async () => {
      const { checkpoints, malformed } = await readCheckpointLines(sink);
      let invalid = malformed;
      for (const cp of checkpoints) {
        if (checkpointSignatureProblem(cp, cp.chain_id, { composite: this.providers.composite, serviceKeys: keys })) {
          invalid++;
          continue;
        }
        const current = this.anchors.get(cp.chain_id);
        if (!current || cp.seq > current.seq) this.anchors.set(cp.chain_id, cp);
      }
      if (invalid > 0)
        this.log.warn(
          { code: 'CHECKPOINT_SINK_INVALID_LINES', lines: invalid, sink },
          'checkpoint sink lines that are not valid checkpoints of this service were ignored',
        );
    })();
    return this.sinkRead;
  }
}

import type { Kysely } from 'kysely';
import { changeEvent, type ChangeEvent } from '../ports/invalidation.js';
import type { Database } from '../ports/store-schema.js';

export interface ChangeLogPollerOptions {
  /** Milliseconds between polls (PQSEAL_CHANGE_POLL_MS). */
  readonly intervalMs: number;
  /** The poll counts as unhealthy (caches bypassed) after a failed poll, or when none succeeded for this long (a hung query). */
  readonly staleAfterMs?: number;
  /** Rows older than this are deleted (by every node, at most once a minute). */
  readonly retentionMs?: number;
  /**
   * How long a missing number is waited for before it is skipped: longer than any transaction can stay
   * open (on PostgreSQL, `idle_in_transaction_session_timeout` = 2 × the statement timeout). Default 60 s.
   */
  readonly gapGraceMs?: number;
  readonly now?: () => number;
  readonly onError?: (error: unknown) => void;
  readonly onRecovered?: () => void;
}

const BATCH = 500;
/**
 * A number missing below higher committed ones is a transaction still in flight (PostgreSQL numbers
 * rows before commit) or one that rolled back; waited for `gapGraceMs`, then skipped. Waiting costs
 * only re-reading the rows above it: they are delivered at once and remembered in `seen`.
 */
const DEFAULT_GAP_GRACE_MS = 60_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * Polls the change log (`where seq > last`, the primary key) and hands every new change to `deliver`,
 * so changes made by another process on the same store (the CLI, another node) reach this one's
 * caches within about one interval, with or without Redis.
 */
export class ChangeLogPoller {
  /** Every change numbered up to here was delivered (or skipped as a gap). */
  private floor = 0;
  /** Delivered changes above `floor`. */
  private readonly seen = new Set<number>();
  private gapSince: number | undefined;
  private lastSuccess = -Infinity;
  private lastPrune = 0;
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly retentionMs: number;
  private readonly gapGraceMs: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly deliver: (event: ChangeEvent) => void,
    private readonly options: ChangeLogPollerOptions,
  ) {
    this.now = options.now ?? Date.now;
    // Generous: a poll that is merely late (a busy event loop) misses nothing; failures count at once.
    this.staleAfterMs = options.staleAfterMs ?? Math.max(2_000, options.intervalMs * 8);
    this.retentionMs = options.retentionMs ?? 10 * 60_000;
    this.gapGraceMs = options.gapGraceMs ?? DEFAULT_GAP_GRACE_MS;
  }

  /**
   * Starts after the newest change older than the gap grace: nothing is cached yet, so nothing older
   * matters, and a transaction still in flight now (numbered, not yet committed) is delivered when it
   * commits. The recent changes are delivered once more on the first poll (harmless: empty caches).
   */
  async start(): Promise<void> {
    const row = await this.db
      .selectFrom('changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('at', '<', this.now() - this.gapGraceMs)
      .executeTakeFirst();
    this.floor = Number(row?.seq ?? 0);
    this.lastSuccess = this.now();
    this.lastPrune = this.now();
    this.schedule();
  }

  /** Whether a poll succeeded recently enough that no change can have been missed for longer. */
  healthy(): boolean {
    return !this.failing && this.now() - this.lastSuccess <= this.staleAfterMs;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One poll (the timer calls it; tests may too). */
  async poll(): Promise<void> {
    try {
      const rows = await this.db.selectFrom('changes').select(['seq', 'kind', 'subject']).where('seq', '>', this.floor).orderBy('seq').limit(BATCH).execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        if (this.seen.has(seq)) continue;
        this.seen.add(seq);
        const event = changeEvent(row.kind, row.subject);
        if (event) this.deliver(event);
      }
      this.advance();
      if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) {
        this.lastPrune = this.now();
        await this.db
          .deleteFrom('changes')
          .where('at', '<', this.now() - this.retentionMs)
          .execute();
      }
      this.lastSuccess = this.now();
      if (this.failing) {
        this.failing = false;
        this.options.onRecovered?.();
      }
    } catch (error) {
      if (!this.failing) this.options.onError?.(error);
      this.failing = true;
    }
  }

  private advance(): void {
    for (;;) {
      while (this.seen.delete(this.floor + 1)) this.floor++;
      if (this.seen.size === 0) {
        this.gapSince = undefined;
        return;
      }
      this.gapSince ??= this.now();
      if (this.now() - this.gapSince < this.gapGraceMs) return;
      this.floor = Math.min(...this.seen) - 1;
      this.gapSince = undefined;
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => {
        this.running = undefined;
        if (this.timer) this.schedule();
      });
    }, this.options.intervalMs);
    this.timer.unref();
  }
}

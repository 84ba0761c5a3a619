import type { AuditSink } from '../ports/audit-sink.js';
import { AuditUnavailableError } from './errors.js';
import type { AuditEvent, AuditRecord } from './record.js';

/**
 * Group commit for the audit records of crypto operations. Requests hand in their record and wait
 * for it to be durable before they answer; the writer gathers what arrives within `flushDelayMs`
 * (or until `maxBatch` records wait) and writes them all in one transaction — one fsync for many
 * requests instead of one each. While a batch is being written the next one gathers. The sink writes
 * the batch, on a thread of its own for a store file (`ThreadAuditSink`).
 *
 * A failed transaction fails every record of the batch (the requests answer 503); nothing is retried
 * behind the caller's back, so an answered 2xx always has its record on disk.
 */

export interface AuditWriterOptions {
  /** How long the first record of a batch waits for company; 0 = until the current I/O turn ends. */
  readonly flushDelayMs?: number;
  readonly maxBatch?: number;
}

/** Events that commit together (one request's records), in one transaction. */
interface Pending {
  readonly events: readonly AuditEvent[];
  readonly resolve: (records: AuditRecord[]) => void;
  readonly reject: (error: Error) => void;
}

export class AuditWriter {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  /** Batches written and records in them (for tests and metrics). */
  readonly stats = { batches: 0, records: 0 };

  constructor(
    private readonly sink: AuditSink<AuditEvent, AuditRecord>,
    options: AuditWriterOptions = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? 1;
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
  }

  /** Resolves once the record is committed; rejects with `AuditUnavailableError` if it could not be. */
  append(event: AuditEvent): Promise<AuditRecord> {
    return this.appendAll([event]).then((records) => records[0] as AuditRecord);
  }

  /** Several records of one request (e.g. a partner's open, and the owner's copy): committed in the same transaction. */
  appendAll(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    if (this.closed) return Promise.reject(new AuditUnavailableError('the audit log is closed'));
    return new Promise<AuditRecord[]>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.schedule();
    });
  }

  /** Writes what is pending, refuses new records and closes the sink. */
  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    while (this.flushing || this.queue.length > 0) {
      if (this.flushing) await this.flushing;
      else await this.flush();
    }
    await this.sink.close();
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush picks the queue up when it ends
    if (this.queue.length >= this.maxBatch) {
      this.clearTimer();
      void this.flush();
      return;
    }
    if (this.timer) return;
    const run = () => {
      this.timer = undefined;
      void this.flush();
    };
    this.timer = this.flushDelayMs > 0 ? setTimeout(run, this.flushDelayMs) : setImmediate(run);
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return this.flushing ?? Promise.resolve();
    const batch = this.queue.splice(0, this.maxBatch);
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
      // Records that arrived during the write have waited long enough: write them now.
      if (this.queue.length > 0) void this.flush();
    });
    return this.flushing;
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      const records = await this.sink.append(batch.flatMap((p) => p.events));
      this.stats.batches++;
      this.stats.records += records.length;
      let next = 0;
      for (const p of batch) {
        p.resolve(records.slice(next, next + p.events.length));
        next += p.events.length;
      }
    } catch (cause) {
      const error = new AuditUnavailableError('the audit log could not be written', { cause });
      for (const p of batch) p.reject(error);
    }
  }
}

import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import type { AuditSink } from '../ports/audit-sink.js';
import type { Database } from '../ports/store-schema.js';
import { appendRecords, writeTransaction } from './chain-store.js';
import type { AuditEvent, AuditRecord } from './record.js';
import type { WorkerStartup } from '../common/worker-startup.js';

/**
 * The audit sinks of today (src/ports/audit-sink.ts). Both append one batch per transaction
 * (`begin immediate` … `commit`), reading the chain heads inside it, so the server's connection, the
 * writer thread and the CLI can all append without forking a chain.
 */
type AuditRecordSink = AuditSink<AuditEvent, AuditRecord>;

/** Appends on the caller's connection (used for in-memory stores, which a second thread cannot open). */
export class InProcessAuditSink implements AuditRecordSink {
  constructor(private readonly db: Kysely<Database>) {}

  append(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    return writeTransaction(this.db, (trx) => appendRecords(trx, events));
  }

  async close(): Promise<void> {}
}

export type AppendRequest = { readonly kind: 'append'; readonly id: number; readonly events: readonly AuditEvent[] } | { readonly kind: 'close' };

export type AppendReply =
  | { readonly kind: 'appended'; readonly id: number; readonly records: AuditRecord[] }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string; readonly code: string | undefined }
  | { readonly kind: 'closed' };

/** The thread's failure, as the sink's callers see it (the writer turns it into AUDIT_UNAVAILABLE). */
export class AuditThreadError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AuditThreadError';
  }
}

interface Waiting {
  readonly resolve: (records: AuditRecord[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Appends on a dedicated worker thread with its own connection to the store file (see
 * append-thread-worker.ts). If the thread dies, the batches it held fail (their requests answer 503)
 * and the next batch starts a new thread.
 */
export class ThreadAuditSink implements AuditRecordSink {
  private current: { readonly worker: Worker; readonly waiting: Map<number, Waiting> } | undefined;
  private nextId = 1;

  constructor(
    private readonly filename: string,
    /** Run by the thread as it starts (src/core/worker-startup.ts; the benchmark's thread accounting). */
    private readonly startup?: WorkerStartup,
  ) {}

  append(events: readonly AuditEvent[]): Promise<AuditRecord[]> {
    const { worker, waiting } = this.current ?? this.start();
    const id = this.nextId++;
    return new Promise<AuditRecord[]>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ kind: 'append', id, events } satisfies AppendRequest);
    });
  }

  /** Lets the thread finish the batches it holds, then stops it. */
  async close(): Promise<void> {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    await new Promise<void>((resolve) => {
      current.worker.once('exit', () => resolve());
      current.worker.postMessage({ kind: 'close' } satisfies AppendRequest);
    });
  }

  private start(): { worker: Worker; waiting: Map<number, Waiting> } {
    const worker = new Worker(new URL('./append-thread-worker.js', import.meta.url), { workerData: { filename: this.filename, startup: this.startup } });
    const waiting = new Map<number, Waiting>();
    worker.on('message', (reply: AppendReply) => {
      if (reply.kind === 'closed') return;
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (reply.kind === 'appended') w.resolve(reply.records);
      else w.reject(new AuditThreadError(reply.message, reply.code));
    });
    const fail = (error: Error): void => {
      if (this.current?.worker === worker) this.current = undefined;
      for (const w of waiting.values()) w.reject(error);
      waiting.clear();
    };
    worker.on('error', (error) => fail(new AuditThreadError(`the audit writer thread failed: ${error.message}`)));
    worker.on('exit', (code) => fail(new AuditThreadError(`the audit writer thread exited (code ${code})`)));
    this.current = { worker, waiting };
    return this.current;
  }
}

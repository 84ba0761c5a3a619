/**
 * Port: where the audit writer's batches go (src/audit/writer.ts, with `Event` = `AuditEvent` and
 * `Appended` = `AuditRecord` of src/audit/record.ts; generic so the port sits below the domain). Each
 * batch is appended in one transaction that reads the chain heads inside it, so several writers never
 * fork a chain. Today's adapters: src/audit/append-thread.ts (on the caller's connection, or on a
 * thread with its own SQLite connection).
 */
export interface AuditSink<Event, Appended> {
  append(events: readonly Event[]): Promise<Appended[]>;
  close(): Promise<void>;
  /** The kernel id of the thread that writes, when it is not the caller's (Linux). */
  readonly threadId?: number | undefined;
}

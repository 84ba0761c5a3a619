import type { Checkpoint } from './checkpoints.js';

/** Errors of the audit log, with stable codes (packages/sdk/src/catalogue.ts gives their HTTP statuses). */

/** The audit log could not be written: the request it describes must not be answered 2xx. */
export class AuditUnavailableError extends Error {
  readonly code = 'AUDIT_UNAVAILABLE';
  constructor(message = 'the audit log could not be written', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditUnavailableError';
  }
}

/** A chain the checkpointer refused to sign, and why (the first broken link it found). */
export interface RefusedChain {
  readonly chain_id: string;
  readonly seq: number;
  readonly reason: string;
  readonly detail: string;
}

/** A checkpoint run refused to sign at least one chain head, because that chain did not verify. */
export class AuditChainBrokenError extends Error {
  readonly code = 'AUDIT_CHAIN_BROKEN';
  constructor(
    readonly refused: readonly RefusedChain[],
    /** The checkpoints the run still made, for the chains that verified. */
    readonly made: readonly Checkpoint[],
  ) {
    super(`audit chain failed verification; checkpoint refused for ${refused.map((r) => `${r.chain_id} (${r.reason} at record ${r.seq})`).join(', ')}`);
    this.name = 'AuditChainBrokenError';
  }
}

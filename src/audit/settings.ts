import { resolve } from 'node:path';
import { ConfigError } from '../config.js';

/**
 * Audit settings from the environment (README "Configuration"):
 *
 *   PQSEAL_CHECKPOINT_INTERVAL  seconds between signed checkpoints of changed chain heads (default 300, 0 = only on demand and at shutdown)
 *   PQSEAL_AUDIT_FLUSH_MS       how long the group commit gathers records before writing (default 0 = the end of the current I/O turn)
 *   PQSEAL_CHECKPOINT_SINK      a file every checkpoint is appended to as one JSON line, fsync'd, to ship off the host (default: none)
 */
export interface AuditSettings {
  readonly checkpointIntervalSeconds: number;
  readonly flushDelayMs: number;
  readonly checkpointSink: string | undefined;
}

export function auditSettings(env: Record<string, string | undefined> = process.env): AuditSettings {
  return {
    checkpointIntervalSeconds: nonNegativeInt(env, 'PQSEAL_CHECKPOINT_INTERVAL', 300),
    flushDelayMs: nonNegativeInt(env, 'PQSEAL_AUDIT_FLUSH_MS', 0),
    checkpointSink: env.PQSEAL_CHECKPOINT_SINK ? resolve(env.PQSEAL_CHECKPOINT_SINK) : undefined,
  };
}

function nonNegativeInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

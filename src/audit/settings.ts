import { ConfigError } from '../config.js';

/**
 * Audit settings from the environment (README "Configuration"):
 *
 *   PQSEAL_CHECKPOINT_INTERVAL  seconds between signed checkpoints of changed chain heads (default 300, 0 = only on demand and at shutdown)
 *   PQSEAL_AUDIT_FLUSH_MS       how long the group commit gathers records before writing (default 1, 0 = end of the current I/O turn)
 */
export interface AuditSettings {
  readonly checkpointIntervalSeconds: number;
  readonly flushDelayMs: number;
}

export function auditSettings(env: Record<string, string | undefined> = process.env): AuditSettings {
  return {
    checkpointIntervalSeconds: nonNegativeInt(env, 'PQSEAL_CHECKPOINT_INTERVAL', 300),
    flushDelayMs: nonNegativeInt(env, 'PQSEAL_AUDIT_FLUSH_MS', 1),
  };
}

function nonNegativeInt(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

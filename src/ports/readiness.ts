import type { ErrorCode } from '@pqseal/sdk/catalogue';

/**
 * Port: one thing /readyz depends on (the store, Redis, …). Each adapter contributes its check in the
 * composition root; /readyz answers 200 only when every check passes.
 */
export interface ReadinessCheck {
  /** Short, fixed name shown in /readyz's answer, e.g. `store`. */
  readonly name: string;
  /** The code /readyz answers with when this check fails (the first failing check's, in list order). */
  readonly code: ErrorCode;
  ready(): Promise<boolean>;
}

export interface Readiness {
  readonly ready: true;
}

export interface Unreadiness {
  readonly ready: false;
  readonly code: ErrorCode;
  /** The names of the failing checks. */
  readonly failing: readonly string[];
}

/** Runs every check at once; a check that throws counts as failing. */
export async function checkReadiness(checks: readonly ReadinessCheck[]): Promise<Readiness | Unreadiness> {
  const results = await Promise.all(checks.map((c) => c.ready().catch(() => false)));
  const failing = checks.filter((_, i) => !results[i]);
  const first = failing[0];
  return first ? { ready: false, code: first.code, failing: failing.map((c) => c.name) } : { ready: true };
}

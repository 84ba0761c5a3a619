import type { Admission } from '../core/admission.js';
import type { Authenticator } from '../core/authenticator.js';
import type { Operations } from '../core/operations.js';
import type { PermissionPolicy } from '../permissions/policy.js';
import type { Config } from '../config.js';
import type { RequestLimiter } from './request-limit.js';
import type { SharingHttpServices } from './sharing.js';

/** What the HTTP layer needs from the rest of the system (built in src/services.ts). */
export interface HttpServices {
  readonly config: Config;
  readonly auth: Authenticator;
  readonly operations: Operations;
  readonly permissions: PermissionPolicy;
  readonly limiter: RequestLimiter;
  /** Load shedding for the routes that run crypto. */
  readonly admission: Admission;
  readonly identity: IdentityEndpoints;
  readonly ready: () => Promise<boolean>;
  /** Revocations, the audit log and published keys (src/http/sharing.ts). */
  readonly sharing: SharingHttpServices;
  readonly benchCeiling?: (op: 'ceiling-seal' | 'ceiling-open', size: number) => Promise<unknown>;
  /** Kernel ids of the service's own threads (Linux), so the benchmark can split CPU time by role. */
  readonly threadRoles?: () => { readonly crypto: readonly number[]; readonly audit: number | undefined };
  /** Audit group-commit counters (transactions and records so far), reported by GET /bench/stats. */
  readonly auditStats?: () => { readonly batches: number; readonly records: number };
}

/** The identity pool as the InitiateAuth and discovery endpoints see it. */
export interface IdentityEndpoints {
  readonly clientId: string;
  /** Throws `LoginRateLimitedError` when the client address has used its login budget. */
  passwordAuth(username: string, password: string, from?: { readonly clientAddress?: string | undefined }): Promise<AuthResult>;
  refreshAuth(refreshToken: string): Promise<AuthResult>;
  jwks(): Promise<object> | object;
  /** The discovery document, built from the configured issuer (never from the request). */
  openidConfiguration(): object;
}

export interface AuthResult {
  /** Who logged in (for the audit record; not sent). */
  readonly userId: string;
  readonly orgId: string;
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken?: string | undefined;
  readonly expiresIn: number;
}

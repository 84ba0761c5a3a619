import type { Admission } from '../core/admission.js';
import type { Authenticator } from '../core/authenticator.js';
import type { Operations } from '../core/operations.js';
import type { PermissionPolicy } from '../permissions/policy.js';
import type { Config } from '../config.js';
import type { Metrics } from '../ports/metrics.js';
import type { ReadinessCheck } from '../ports/readiness.js';
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
  /** What /readyz checks (the store's, and whatever else an adapter adds in the composition root). */
  readonly readiness: readonly ReadinessCheck[];
  /** Where request metrics are recorded (src/ports/metrics.ts). */
  readonly metrics: Metrics;
  /** Revocations, the audit log and published keys (src/http/sharing.ts). */
  readonly sharing: SharingHttpServices;
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

import type { AuditPage, AuditQuery } from '../audit/query.js';
import type { AuditEvent } from '../audit/record.js';
import type { PublicKeyDocument } from '../keys/public-key-document.js';
import type { Revocations } from '../permissions/revocations.js';

/** What the sharing, audit and public-key routes need (built in src/services.ts). */
export interface SharingHttpServices {
  /** Group-committed append; resolves once the record is durable. */
  readonly audit: { appendAll(events: readonly AuditEvent[]): Promise<unknown> };
  /** Whether an organisation with this id exists (an envelope header names its owner; anyone can write a header). */
  readonly organisationExists: (orgId: string) => Promise<boolean>;
  readonly auditLog: { list(chainId: string, query: AuditQuery): Promise<AuditPage> };
  readonly revocations: Pick<Revocations, 'revoke' | 'restore' | 'list'>;
  readonly publicKeys: {
    org(orgId: string): Promise<PublicKeyDocument | undefined>;
    service(): Promise<PublicKeyDocument>;
  };
  readonly now: () => number;
}

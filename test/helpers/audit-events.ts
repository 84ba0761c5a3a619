import type { AuditEvent } from '../../src/audit/record.js';

/** A failed Direct decrypt, the i-th of a series: the filler record of the audit writer tests. */
export function failedDecryptEvent(i: number, orgId: string | null = null): AuditEvent {
  return {
    at: 1_700_000_000_000 + i,
    requestId: `r${i}`,
    orgId,
    userId: null,
    credentialId: null,
    operation: 'decrypt',
    via: 'direct',
    envelopeId: null,
    envelopeOwnerId: null,
    partnerIds: [],
    outcome: 'failure',
    errorCode: 'X',
    httpStatus: 400,
    clientAddress: null,
  };
}

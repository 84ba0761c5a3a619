/**
 * The server's side of the envelope: sealing and opening with the crypto providers (liboqs, OpenSSL).
 * The format itself — parsing, encoding, limits, errors — is `@pqseal/sdk/envelope`, shared with the SDK.
 */
export { seal, type SealRecipient, type SealSigner } from './seal.js';
export { sealBatch, type BatchSealOutcome } from './seal-batch.js';
export { open, verifySignature, type OpenKeys, type OpenedEnvelope } from './open.js';
export { LruMemo } from './memo.js';
export { EnvelopeError, inspectEnvelope, inspectEnvelopeHeader, isEnvelopeError, MAX_PLAINTEXT_BYTES } from '@pqseal/sdk/envelope';
export type { EnvelopeHeader, PermissionGrant } from '@pqseal/sdk/envelope';

export { seal, type SealInput, type SealedEnvelope, type SealRecipient, type SealSigner } from './seal.js';
export { open, inspectEnvelope, inspectEnvelopeHeader, type OpenKeys, type OpenedEnvelope, type SignatureCheck } from './open.js';
export { EnvelopeError, isEnvelopeError, type EnvelopeErrorCode } from './errors.js';
export { SUITE_NAME, ENVELOPE_VERSION, type EnvelopeHeader, type ContentType } from './format.js';
export type { PermissionGrant } from './permissions.js';
export { MAX_PLAINTEXT_BYTES, MAX_ENVELOPE_CHARS } from './limits.js';
export { formatMicros } from './timestamp.js';

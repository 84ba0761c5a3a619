export { seal, type SealRecipient, type SealSigner } from './seal.js';
export { open, inspectEnvelope, inspectEnvelopeHeader, type OpenKeys, type OpenedEnvelope } from './open.js';
export { EnvelopeError, isEnvelopeError } from './errors.js';
export type { EnvelopeHeader } from './format.js';
export type { PermissionGrant } from './permissions.js';
export { MAX_PLAINTEXT_BYTES } from './limits.js';

/**
 * `@pqseal/sdk/envelope`: the envelope format, v1 and v2 (docs/envelope.md), runtime-neutral — Uint8Array,
 * TextEncoder and nothing else, so the server, the SDK's offline verification and browsers read and
 * write the same bytes with the same code. No keys and no crypto implementations here: sealing and
 * opening (KEM, AEAD, signatures) belong to whoever holds the keys.
 */
export { decodeBase64, decodeBase64Url, encodeBase64Url } from './base64url.js';
export { bytesToHex, concatBytes, utf8 } from './bytes.js';
export { COMPOSITE_MLDSA65_ED25519_SIZES, compositeMessage } from './composite-message.js';
export { EnvelopeError, isEnvelopeError, malformed, type EnvelopeErrorCode } from './errors.js';
export {
  ENVELOPE_VERSION_1,
  ENVELOPE_VERSION_2,
  SUITE_XWING_AES256GCM_MLDSA65ED25519,
  XWING_CIPHERTEXT_LENGTH,
  assertIdentifier,
  encodeHeader,
  parseEnvelopeBytes,
  parseEnvelopeHeader,
  type ContentType,
  type EnvelopeHeader,
  type EnvelopeVersion,
  type ParsedEnvelope,
} from './format.js';
export {
  BATCH_SIGNATURE_CONTEXT,
  LEAF_SALT_BYTES,
  MAX_BATCH_SIZE,
  batchLeaf,
  batchRootMessage,
  batchSignedRootMessage,
  type BatchProof,
} from './batch-signature.js';
export { MERKLE_NODE_BYTES, inclusionPathLength, merkleTree, rootFromPath, type Sha256 } from './merkle.js';
export { decodeInner, encodeInnerPrefix, MAX_DISPLAY_NAME_BYTES, type InnerSignature } from './inner.js';
export { inspectEnvelope, inspectEnvelopeHeader } from './inspect.js';
export { MAX_ENVELOPE_BYTES, MAX_ENVELOPE_CHARS, MAX_PERMISSION_BYTES, MAX_PLAINTEXT_BYTES } from './limits.js';
export { decodePermissions, encodePermissions, type PermissionGrant } from './permissions.js';
export { ENVELOPE_SIGNATURE_CONTEXT, signedMessage, type SignerIdentity } from './signed-message.js';
export { formatMicros, nowMicros } from './timestamp.js';

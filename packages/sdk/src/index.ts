/**
 * pqseal SDK — `import { Client, login } from '@pqseal/sdk'`; the envelope format is `@pqseal/sdk/envelope`.
 *
 * A typed client for the pqseal service (and the hosted API it is compatible with): the four
 * operations on the Managed or Direct path, sharing and revocation, the audit log, published keys
 * and offline signature verification. No server code, no Node built-ins, no native modules: it
 * runs in Node 20+ and in browsers (global fetch, TextEncoder, AbortController).
 */

export {
  Client,
  SDK_VERSION,
  type AuditInput,
  type AuditPage,
  type AuditRecord,
  type BatchItemResult,
  type BatchResult,
  type CallOptions,
  type ClientOptions,
  type DecryptResult,
  type DecryptVerifyResult,
  type ListPermissionsInput,
  type OpenBatchInput,
  type OpenInput,
  type OpenItem,
  type PartnerCredentials,
  type Permission,
  type PermissionsPage,
  type PublicKeyDocument,
  type PublicKeyEntry,
  type Revocation,
  type RevocationInput,
  type RevocationResult,
  type SealBatchInput,
  type SealInput,
  type SealItem,
  type SealResult,
} from './client.js';
export { Client as CrittoraClient } from './client.js';
export { ERROR_CATALOGUE, errorSpec, isErrorCode, type ErrorCode, type ErrorSpec } from './catalogue.js';
export {
  bearerToken,
  login,
  managed,
  LoginAuth,
  type ApiMode,
  type AuthContext,
  type AuthProvider,
  type LoginOptions,
  type Tokens,
  type UserPassword,
} from './auth.js';
export {
  AuthError,
  CrittoraError,
  DecryptError,
  EncryptError,
  PqsealError,
  RateLimitError,
  RequestError,
  ValidationError,
  type PqsealErrorOptions,
} from './errors.js';
export { DEFAULT_RETRY_ON, DEFAULT_TIMEOUT_MS, type RetryInfo, type RetryOptions } from './transport.js';
export { EnvelopeError, EnvelopeError as EnvelopeFormatError, type EnvelopeErrorCode } from './envelope/index.js';
export { inspectEnvelope, type EnvelopeHeaderInfo, type EnvelopePermission } from './inspect.js';
export type { BatchProofClaim, BatchProofInput } from './batch-proof.js';
export {
  verifyOffline,
  type DecryptVerifyInput,
  type OfflineFailure,
  type OfflineVerification,
  type PublicKeyEntryInput,
  type PublicKeysInput,
  type VerifyOfflineInput,
} from './verify.js';

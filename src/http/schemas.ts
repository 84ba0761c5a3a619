/**
 * JSON schemas of the wire contract. Routes declare them, Fastify validates with them, and the
 * OpenAPI document is generated from them.
 */

import { ACTIONS as PERMISSION_ACTIONS } from '../permissions/actions.js';

export { PERMISSION_ACTIONS };

/**
 * Examples for the OpenAPI document, from the seed (its request body and response) and the hosted
 * service's reference pages. Long values (envelopes, signatures) are shortened.
 */
const SEED_DATA = 'sensitive information to sign and encrypt';
const SEED_ENCRYPTED_DATA =
  'ugHTJ-ziCZ-QmWh8ruNJ0ojgwY8iA7OmPVGZDzVlGmImv4A4xWJ6HLchv_dRFZEdl7CB8i_F8KlEgTumCAY86B4n5jltbB8NnSiIvlyZT8WkyIDVCJX6F7VT6R_Wt99PjTg7Q';
const EXAMPLE_ENVELOPE_ID = '5b1f0c9e8d7a4f3e2b1c0d9e8f7a6b5c';
const EXAMPLE_SIGNED = {
  decrypted_data: SEED_DATA,
  envelope_id: EXAMPLE_ENVELOPE_ID,
  is_valid_signature: true,
  signed_by: 'Rockville Insurance Group',
  signed_timestamp: '2025-10-19T17:28:27.659100+00:00',
  signer_org_id: 'org_7h7cawk7fppvnatshpte',
  signer_key_id: 'org_7h7cawk7fppvnatshpte.sig.v1',
  signature: 'x3Qm0Vb9…(4,498 characters)',
};

const credentialHeader = { type: 'string', minLength: 1, maxLength: 1024 } as const;

export const managedHeaders = {
  type: 'object',
  required: ['username', 'password', 'api_key', 'access_key', 'secret_key'],
  properties: {
    username: { ...credentialHeader, description: 'Identity-pool username' },
    password: { ...credentialHeader, description: 'Identity-pool password' },
    api_key: { ...credentialHeader, description: 'Partner API key' },
    access_key: { ...credentialHeader, description: 'Partner access key' },
    secret_key: { ...credentialHeader, description: 'Partner secret key' },
  },
} as const;

export const directHeaders = {
  type: 'object',
  required: ['authorization', 'api_key', 'access_key', 'secret_key'],
  properties: {
    authorization: { type: 'string', pattern: '^Bearer [A-Za-z0-9_.-]+$', maxLength: 8192, description: 'Bearer <IdToken>' },
    api_key: { ...credentialHeader, description: 'Partner API key' },
    access_key: { ...credentialHeader, description: 'Partner access key' },
    secret_key: { ...credentialHeader, description: 'Partner secret key' },
  },
} as const;

export const MAX_PERMISSION_ENTRIES = 64;

export const permissionList = {
  type: 'array',
  maxItems: MAX_PERMISSION_ENTRIES,
  description: 'Partner organisations this envelope is shared with',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['partner_id', 'permissions'],
    properties: {
      partner_id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', description: 'Organisation id of the partner' },
      permissions: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', enum: [...PERMISSION_ACTIONS] },
        description:
          '"read" = may decrypt and decrypt-verify; "write" is accepted for compatibility with the hosted API and grants nothing (envelopes are immutable)',
      },
      expires_at: { type: 'string', format: 'date-time', description: 'ISO 8601 instant after which the grant no longer applies' },
    },
  },
} as const;

const actions = (values: readonly string[]) =>
  ({ type: 'array', minItems: 1, maxItems: 2, uniqueItems: true, items: { type: 'string', enum: [...values] } }) as const;

const dataField = { type: 'string', description: 'Raw plaintext data to be processed' } as const;
const encryptedDataField = { type: 'string', minLength: 1, description: 'The exact encrypted_data string returned by encrypt or sign-encrypt' } as const;

/** One item of an encrypt / sign-encrypt batch: the single-item body without requested_actions. */
export const sealItem = {
  type: 'object',
  additionalProperties: false,
  required: ['data'],
  properties: { data: dataField, permissions: permissionList },
} as const;

/** One item of a decrypt / decrypt-verify batch. */
export const openItem = {
  type: 'object',
  additionalProperties: false,
  required: ['encrypted_data'],
  properties: { encrypted_data: encryptedDataField },
} as const;

/**
 * `batch_input` as the route validates it: a non-empty array of objects. Each item is then checked
 * against its item schema by the handler, so one bad item fails only itself; the OpenAPI document
 * shows the item schema (src/http/openapi.ts).
 */
const batchInput = {
  type: 'array',
  minItems: 1,
  items: { type: 'object' },
  description:
    'A batch: one result per item, in order, in batch_results (PQSEAL_BATCH_MAX_ITEMS items and PQSEAL_BATCH_MAX_BYTES of data at most). Not together with the single-item fields.',
} as const;

// Neither body requires its single-item field: the handler answers the one missing, or both shapes
// given at once, with a clear message (src/http/routes/operations.ts).
export const sealBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data: dataField,
    permissions: permissionList,
    requested_actions: { ...actions(['s', 'e']), description: 'Direct API: ["e"] for encrypt, ["s","e"] (any order) for sign-encrypt' },
    batch_input: batchInput,
  },
  examples: [
    { data: SEED_DATA },
    { data: SEED_DATA, permissions: [{ partner_id: 'partner-123', permissions: ['read', 'write'] }] },
    { batch_input: [{ data: SEED_DATA }, { data: 'second item', permissions: [{ partner_id: 'partner-123', permissions: ['read'] }] }] },
  ],
} as const;

export const openBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    encrypted_data: encryptedDataField,
    permissions: permissionList,
    requested_actions: { ...actions(['d', 'v']), description: 'Optional: ["d"] for decrypt, ["d","v"] for decrypt-verify' },
    batch_input: batchInput,
  },
  examples: [{ encrypted_data: SEED_ENCRYPTED_DATA }, { batch_input: [{ encrypted_data: SEED_ENCRYPTED_DATA }, { encrypted_data: 'not-an-envelope' }] }],
} as const;

export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
} as const;

export const sealResult = {
  type: 'object',
  required: ['encrypted_data', 'envelope_id'],
  properties: {
    encrypted_data: { type: 'string', description: 'Self-contained envelope, URL-safe base64 without padding' },
    envelope_id: { type: 'string', description: 'Envelope id (32 hex characters), for sharing and revocation' },
  },
  examples: [{ encrypted_data: SEED_ENCRYPTED_DATA, envelope_id: EXAMPLE_ENVELOPE_ID }],
} as const;

const openedProperties = {
  decrypted_data: { type: 'string' },
  envelope_id: { type: 'string' },
  data_encoding: { type: 'string', enum: ['base64'], description: 'Present only for envelopes sealed as bytes' },
} as const;

export const decryptResult = {
  type: 'object',
  required: ['decrypted_data', 'signed'],
  properties: {
    ...openedProperties,
    signed: {
      type: 'boolean',
      description:
        "Whether the envelope carries a signature (sign-encrypt) or not (encrypt). Decrypt does not check the signature, and anyone holding the organisation's public KEM key can make an unsigned envelope to it: decrypt proves nothing about who sent the data. Use decrypt-verify for that.",
    },
  },
  examples: [{ decrypted_data: SEED_DATA, envelope_id: EXAMPLE_ENVELOPE_ID, signed: true }],
} as const;

export const decryptVerifyResult = {
  type: 'object',
  required: ['decrypted_data', 'is_valid_signature', 'signed_by', 'signed_timestamp'],
  properties: {
    ...openedProperties,
    is_valid_signature: { type: 'boolean' },
    signed_by: { type: 'string', description: 'Display name of the signing organisation' },
    signed_timestamp: { type: 'string', description: 'ISO 8601 with microseconds, e.g. 2025-10-19T17:28:27.659100+00:00' },
    signer_org_id: { type: 'string' },
    signer_key_id: { type: 'string' },
    signature: { type: 'string', description: 'Composite signature, base64url (for offline verification)' },
    repudiator: { type: 'string', description: 'Present when the signature does not hold: who the envelope claimed as signer' },
    signature_error: { type: 'string', enum: ['SIGNATURE_MISMATCH', 'SIGNER_KEY_UNKNOWN'] },
    batch_proof: {
      type: 'object',
      description:
        'Envelope v2: where this envelope sits in the batch its signature covers (docs/envelope.md §Envelope v2), for offline verification: signature is over the batch root this proof leads to.',
      required: ['leaf_salt', 'batch_size', 'leaf_index', 'path'],
      properties: {
        leaf_salt: { type: 'string', description: 'base64url, 32 bytes' },
        batch_size: { type: 'integer', minimum: 1 },
        leaf_index: { type: 'integer', minimum: 0 },
        path: { type: 'array', items: { type: 'string' }, description: 'RFC 9162 inclusion path, leaf first, base64url 32-byte nodes' },
      },
    },
  },
  examples: [EXAMPLE_SIGNED, { ...EXAMPLE_SIGNED, is_valid_signature: false, repudiator: 'Rockville Insurance Group', signature_error: 'SIGNATURE_MISMATCH' }],
} as const;

/**
 * The answer to a `batch_input`: one entry per item, in order — the single-item result, or the
 * item's error. As its own schema so the answer validates against `anyOf` the two shapes.
 */
const batchResults = (result: object) =>
  ({
    type: 'object',
    required: ['batch_results'],
    properties: {
      batch_results: {
        type: 'array',
        items: {
          anyOf: [
            result,
            {
              type: 'object',
              required: ['error'],
              properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
            },
          ],
        },
        description: 'One entry per item of batch_input, in order: its result, or {"error": {"code", "message"}} when that item failed',
      },
    },
  }) as const;

/** A route's 200: the single-item result, or the results of a batch_input (the last example). */
export function singleOrBatch<T extends { readonly examples: readonly object[] }>(result: T, itemError: { readonly code: string; readonly message: string }) {
  const { examples, ...schema } = result;
  return { anyOf: [schema, batchResults(schema)], examples: [...examples, { batch_results: [examples[0], { error: itemError }] }] } as const;
}

export const managed = (body: object) => ({ type: 'object', required: ['statusCode', 'body'], properties: { statusCode: { type: 'integer' }, body } }) as const;

export const managedError = managed({ type: 'object', required: ['error'], properties: { error: errorBody } });

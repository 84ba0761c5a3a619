import { bearerToken, type ApiMode, type AuthContext, type AuthProvider } from './auth.js';
import { isErrorCode, errorSpec } from './catalogue.js';
import { AuthError, errorFromResponse, RequestError, ValidationError, type CallKind, type PqsealError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, Transport, decodeResponse, isObject, type RawResponse, type RequestSpec, type RetryOptions } from './transport.js';
import type { BatchProofClaim } from './batch-proof.js';
import type { OfflineVerification, PublicKeysInput } from './verify.js';

/**
 * The pqseal client. Same surface as the hosted service's JavaScript SDK, so code written for it
 * ports by changing the import and `baseUrl`:
 *
 *   const client = new Client({ baseUrl, credentials: { apiKey, accessKey, secretKey }, auth: login({ username, password }) });
 *   const { encryptedData } = await client.signEncrypt({ data: 'hello' });
 *   const { decryptedData, isValidSignature, signedBy } = await client.decryptVerify({ encryptedData });
 *
 * No server code, no Node built-ins, no native modules: it runs in Node 20+ and in browsers.
 */

export const SDK_VERSION = '0.1.0';

export interface PartnerCredentials {
  readonly apiKey: string;
  readonly accessKey?: string;
  readonly secretKey?: string;
}

export interface ClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (no `/v1`: the client adds it in managed mode). */
  readonly baseUrl: string;
  /** The organisation's partner credentials (sent as `api_key`, `access_key`, `secret_key`). */
  readonly credentials?: PartnerCredentials;
  /** `login({...})`, `bearerToken(...)` or `managed({...})`. A string is taken as a bearer token. */
  readonly auth?: AuthProvider | string;
  /** A fetch implementation; default the global one. */
  readonly fetch?: typeof fetch;
  /** Per attempt, in ms. Default 10 000. */
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  /** Extra headers on every request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as User-Agent. Default `pqseal-sdk/<version>` outside browsers; browsers keep their own. */
  readonly userAgent?: string;
}

/** A partner organisation the result is shared with (wire: `{partner_id, permissions, expires_at}`). */
export interface Permission {
  readonly partnerId: string;
  /** Default `["read"]`: the partner may decrypt / decrypt-verify. `"write"` is accepted and grants nothing. */
  readonly actions?: readonly string[];
  /** When the grant lapses (ISO 8601 string or Date). */
  readonly expiresAt?: string | Date;
}

export interface CallOptions {
  /** Cancels the call (and its retries). */
  readonly signal?: AbortSignal;
}

export interface SealInput extends CallOptions {
  readonly data: string;
  readonly permissions?: readonly Permission[];
}

export interface OpenInput extends CallOptions {
  readonly encryptedData: string;
  readonly permissions?: readonly Permission[];
}

export interface SealResult {
  readonly encryptedData: string;
  /** 32 hex characters; what revoke/restore and the audit log refer to. */
  readonly envelopeId: string;
  readonly requestId: string | undefined;
}

export interface DecryptResult {
  readonly decryptedData: string;
  readonly envelopeId: string | undefined;
  /** "base64" when the envelope was sealed as bytes and decryptedData is their base64. */
  readonly dataEncoding: 'base64' | undefined;
  /**
   * Whether the envelope carries a signature. decrypt does not check it, and anyone with the
   * organisation's public KEM key can make an unsigned envelope to it: only decryptVerify says who
   * sent the data. (Always true from decryptVerify, which refuses unsigned envelopes.)
   */
  readonly signed: boolean;
  readonly requestId: string | undefined;
}

export interface DecryptVerifyResult extends DecryptResult {
  readonly isValidSignature: boolean;
  /** Display name of the signing organisation (as the envelope names it). */
  readonly signedBy: string;
  /** ISO 8601 with microseconds, e.g. 2025-10-19T17:28:27.659100+00:00. */
  readonly signedTimestamp: string;
  /** Present when the signature does not hold: the party the envelope claimed as signer. */
  readonly repudiator: string | undefined;
  /** SIGNATURE_MISMATCH or SIGNER_KEY_UNKNOWN when the signature does not hold. */
  readonly signatureError: string | undefined;
  readonly signerOrgId: string;
  readonly signerKeyId: string;
  /** Composite signature, base64url: for `verifyOffline`. */
  readonly signature: string;
  /** The envelope string that was opened (input echo), for `verifyOffline`. */
  readonly encryptedData: string;
  /** Version 2 (batch-signed) envelopes: the inclusion proof `verifyOffline` reaches the signed root with. */
  readonly batchProof?: BatchProofClaim | undefined;
}

/** One item of `encryptBatch` / `signEncryptBatch`. */
export interface SealItem {
  readonly data: string;
  readonly permissions?: readonly Permission[];
}

export interface SealBatchInput extends CallOptions {
  /** At most the server's PQSEAL_BATCH_MAX_ITEMS (1,000 by default). */
  readonly items: readonly SealItem[];
}

/** One item of `decryptBatch` / `decryptVerifyBatch`. */
export interface OpenItem {
  readonly encryptedData: string;
}

export interface OpenBatchInput extends CallOptions {
  readonly items: readonly OpenItem[];
}

/**
 * The outcome of one item of a batch: its result, or the typed error the same item would have thrown
 * alone (`DecryptError` for a tampered envelope, `AuthError` for one the caller may not open, …).
 */
export type BatchItemResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PqsealError };

export interface BatchResult<T> {
  /** One per item, in the order of the items. */
  readonly results: readonly BatchItemResult<T>[];
  readonly requestId: string | undefined;
}

export interface RevocationInput extends CallOptions {
  readonly partnerId: string;
  /** One envelope; omit to cover every envelope of the caller's organisation. */
  readonly envelopeId?: string;
}

export interface RevocationResult {
  readonly ownerOrgId: string;
  readonly partnerId: string;
  readonly envelopeId: string | null;
  readonly scope: 'envelope' | 'all_envelopes';
  /** Whether this rule is in force now. */
  readonly revoked: boolean;
  /** False when the state already was as asked (the calls are idempotent). */
  readonly changed: boolean;
  readonly revokedAt: string | null;
  /** Whether the partner is refused for this scope by any rule now. */
  readonly accessRevoked: boolean;
  readonly requestId: string | undefined;
}

export interface ListPermissionsInput extends CallOptions {
  readonly envelopeId?: string;
  readonly partnerId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface Revocation {
  readonly partnerId: string;
  readonly envelopeId: string | null;
  readonly scope: 'envelope' | 'all_envelopes';
  readonly revokedAt: string;
  readonly revokedBy: string | null;
}

export interface PermissionsPage {
  readonly ownerOrgId: string;
  readonly envelopeId: string | null;
  readonly revocations: readonly Revocation[];
  readonly nextCursor: string | null;
}

export interface AuditInput extends CallOptions {
  readonly operation?: string;
  readonly envelopeId?: string;
  readonly outcome?: 'success' | 'failure';
  /** Records at or after this instant. */
  readonly from?: string | Date;
  /** Records before this instant. */
  readonly to?: string | Date;
  /** 1–500, default 50. */
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AuditRecord {
  readonly chainId: string;
  readonly seq: number;
  readonly time: string;
  readonly requestId: string | null;
  readonly orgId: string | null;
  readonly userId: string | null;
  readonly credentialId: string | null;
  readonly operation: string;
  readonly via: 'managed' | 'direct' | 'cli';
  readonly envelopeId: string | null;
  readonly envelopeOwnerId: string | null;
  readonly partnerIds: readonly string[];
  readonly outcome: 'success' | 'failure';
  readonly errorCode: string | null;
  readonly httpStatus: number | null;
  readonly clientAddress: string | null;
  readonly hash: string;
}

export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: string | null;
}

export interface PublicKeyEntry {
  readonly keyId: string;
  readonly kind: 'signing' | 'kem';
  readonly version: number;
  readonly algorithm: string;
  /** base64url without padding. */
  readonly publicKey: string;
  readonly createdAt: string;
  readonly active: boolean;
}

export interface PublicKeyDocument {
  readonly orgId: string;
  readonly name: string;
  readonly keys: readonly PublicKeyEntry[];
}

const TOKEN_REJECTED = new Set(['TOKEN_EXPIRED', 'TOKEN_INVALID']);

export class Client {
  readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly auth: AuthProvider | undefined;

  constructor(private readonly options: ClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl)) {
      throw new ValidationError('Client: baseUrl must be an http(s) URL', { code: 'CONFIG_ERROR' });
    }
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new ValidationError('Client: no fetch implementation; pass options.fetch', { code: 'CONFIG_ERROR' });
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.auth = typeof options.auth === 'string' ? bearerToken(options.auth) : options.auth;
    // A default User-Agent only where the runtime lets a script set it (Node and the like): browsers
    // keep their own, and a non-safelisted header would cost a CORS preflight entry.
    const runtime = globalThis as { process?: { versions?: { node?: string } } };
    const inNode = typeof runtime.process?.versions?.node === 'string';
    this.transport = new Transport({
      baseUrl: this.baseUrl,
      // Called unbound: some fetch implementations (browsers) refuse a `this` other than the global.
      fetch: (input, init) => fetchImpl(input, init),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: options.retry ?? {},
      headers: { ...(options.headers ?? {}) },
      userAgent: options.userAgent ?? (inNode ? `pqseal-sdk/${SDK_VERSION}` : undefined),
    });
  }

  /** A client with the same options and another auth provider. */
  withAuth(auth: AuthProvider | string): Client {
    return new Client({ ...this.options, auth });
  }

  /** Which API path this client calls: "managed" (/v1/*) or "direct". */
  get mode(): ApiMode {
    return this.auth?.mode ?? 'direct';
  }

  async encrypt(input: SealInput): Promise<SealResult> {
    return this.seal('encrypt', ['e'], input);
  }

  async signEncrypt(input: SealInput): Promise<SealResult> {
    return this.seal('sign-encrypt', ['e', 's'], input);
  }

  async decrypt(input: OpenInput): Promise<DecryptResult> {
    const { body, requestId } = await this.open('decrypt', ['d'], input);
    return decryptResult(body, requestId);
  }

  async decryptVerify(input: OpenInput): Promise<DecryptVerifyResult> {
    const { body, requestId } = await this.open('decrypt-verify', ['d', 'v'], input);
    return decryptVerifyResult(body, input.encryptedData, requestId);
  }

  // Batches (`batch_input`): one request, one result or typed error per item, in order. The call
  // itself throws only when the batch is refused as a whole (credentials, BATCH_TOO_LARGE, 429, …).

  async encryptBatch(input: SealBatchInput): Promise<BatchResult<SealResult>> {
    return this.sealBatch('encrypt', ['e'], input);
  }

  async signEncryptBatch(input: SealBatchInput): Promise<BatchResult<SealResult>> {
    return this.sealBatch('sign-encrypt', ['e', 's'], input);
  }

  async decryptBatch(input: OpenBatchInput): Promise<BatchResult<DecryptResult>> {
    return this.openBatch('decrypt', ['d'], input, (body, _item, requestId) => decryptResult(body, requestId));
  }

  async decryptVerifyBatch(input: OpenBatchInput): Promise<BatchResult<DecryptVerifyResult>> {
    return this.openBatch('decrypt-verify', ['d', 'v'], input, (body, item, requestId) => decryptVerifyResult(body, item.encryptedData, requestId));
  }

  /** Revokes a partner's access to one envelope (or, without envelopeId, to all of them). Idempotent. */
  async revoke(input: RevocationInput): Promise<RevocationResult> {
    return this.changeRevocation('revoke', input);
  }

  /** Undoes revoke for the same partnerId and envelopeId. Idempotent. */
  async restore(input: RevocationInput): Promise<RevocationResult> {
    return this.changeRevocation('restore', input);
  }

  /** The revocations the caller's organisation has made (the grants themselves live in the envelopes). */
  async listPermissions(input: ListPermissionsInput = {}): Promise<PermissionsPage> {
    const { body } = await this.call({
      method: 'GET',
      path: '/permissions',
      query: { envelope_id: input.envelopeId, partner_id: input.partnerId, limit: input.limit, cursor: input.cursor },
      kind: 'other',
      idempotent: true,
      signal: input.signal,
    });
    const list = Array.isArray(body.revocations) ? (body.revocations as Record<string, unknown>[]) : [];
    return {
      ownerOrgId: str(body.owner_org_id) ?? '',
      envelopeId: (body.envelope_id as string | null) ?? null,
      revocations: list.map((r) => camel(r) as unknown as Revocation),
      nextCursor: (body.next_cursor as string | null) ?? null,
    };
  }

  /** One page of the caller organisation's audit log, newest first. */
  async audit(input: AuditInput = {}): Promise<AuditPage> {
    const { body } = await this.call({
      method: 'GET',
      path: '/audit',
      query: {
        operation: input.operation,
        envelope_id: input.envelopeId,
        outcome: input.outcome,
        from: instant(input.from),
        to: instant(input.to),
        limit: input.limit,
        cursor: input.cursor,
      },
      kind: 'other',
      idempotent: true,
      signal: input.signal,
    });
    const records = Array.isArray(body.records) ? (body.records as Record<string, unknown>[]) : [];
    return { records: records.map((r) => camel(r) as unknown as AuditRecord), nextCursor: (body.next_cursor as string | null) ?? null };
  }

  /** Every audit record matching the filters, page after page. */
  async *auditRecords(input: Omit<AuditInput, 'cursor'> = {}): AsyncGenerator<AuditRecord> {
    let cursor: string | undefined;
    do {
      const page = await this.audit({ ...input, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.records;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * An organisation's published public keys (unauthenticated). For offline verification that does
   * not trust this server, obtain the document independently or pin it; fetching it from the same
   * server is convenient but only as trustworthy as that server.
   */
  async getPublicKeys(orgId: string, options: CallOptions = {}): Promise<PublicKeyDocument> {
    const managedPath = this.mode === 'managed';
    const raw = await this.transport.send({
      method: 'GET',
      path: `${managedPath ? '/v1' : ''}/keys/${encodeURIComponent(orgId)}`,
      kind: 'other',
      idempotent: true,
      signal: options.signal,
    });
    const body = decodeResponse('other', raw);
    const keys = Array.isArray(body.keys) ? (body.keys as Record<string, unknown>[]) : [];
    return { orgId: str(body.org_id) ?? '', name: str(body.name) ?? '', keys: keys.map((k) => camel(k) as unknown as PublicKeyEntry) };
  }

  /**
   * Verifies a decrypt-verify result locally (see `verifyOffline`). Without `publicKeys` the signer's
   * keys are fetched from this server, which then has to be trusted for them.
   */
  async verifyOffline(result: DecryptVerifyResult, options: { publicKeys?: PublicKeysInput } & CallOptions = {}): Promise<OfflineVerification> {
    const publicKeys = options.publicKeys ?? (await this.getPublicKeys(result.signerOrgId, options));
    // Loaded on first use: the client itself then needs no @noble/* (the web console loads it without an import map).
    const { verifyOffline } = await import('./verify.js');
    return verifyOffline({ decryptVerifyResult: result, publicKeys });
  }

  // -------------------------------------------------------------------------------------------

  private async seal(op: 'encrypt' | 'sign-encrypt', actions: string[], input: SealInput): Promise<SealResult> {
    const body = wireSealItem(op, input);
    if (this.mode === 'direct') body.requested_actions = actions;
    const { body: res, requestId } = await this.call({ method: 'POST', path: `/${op}`, body, kind: 'seal', idempotent: false, signal: input.signal });
    return sealResult(res, requestId);
  }

  private async sealBatch(op: 'encrypt' | 'sign-encrypt', actions: string[], input: SealBatchInput): Promise<BatchResult<SealResult>> {
    const items = batchOf(op, input);
    const body: Record<string, unknown> = { batch_input: items.map((item, i) => wireSealItem(`${op}: items[${i}]`, item)) };
    if (this.mode === 'direct') body.requested_actions = actions;
    const { body: res, requestId } = await this.call({ method: 'POST', path: `/${op}`, body, kind: 'seal', idempotent: false, signal: input.signal });
    return batchResult(res, items, 'seal', requestId, (r) => sealResult(r, requestId));
  }

  private async openBatch<T>(
    op: 'decrypt' | 'decrypt-verify',
    actions: string[],
    input: OpenBatchInput,
    decode: (body: Record<string, unknown>, item: OpenItem, requestId: string | undefined) => T,
  ): Promise<BatchResult<T>> {
    const items = batchOf(op, input);
    const batch = items.map((item, i) => {
      if (!item || typeof item.encryptedData !== 'string' || item.encryptedData === '') {
        throw new ValidationError(`${op}: items[${i}].encryptedData must be a non-empty string`, { code: 'VALIDATION_ERROR' });
      }
      return { encrypted_data: item.encryptedData };
    });
    const body: Record<string, unknown> = { batch_input: batch };
    if (this.mode === 'direct') body.requested_actions = actions;
    const { body: res, requestId } = await this.call({ method: 'POST', path: `/${op}`, body, kind: 'open', idempotent: true, signal: input.signal });
    return batchResult(res, items, 'open', requestId, (r, item) => decode(r, item, requestId));
  }

  private async open(op: 'decrypt' | 'decrypt-verify', actions: string[], input: OpenInput) {
    if (!input || typeof input.encryptedData !== 'string' || input.encryptedData === '') {
      throw new ValidationError(`${op}: encryptedData must be a non-empty string`, { code: 'VALIDATION_ERROR' });
    }
    const body: Record<string, unknown> = { encrypted_data: input.encryptedData };
    if (input.permissions?.length) body.permissions = wirePermissions(input.permissions);
    if (this.mode === 'direct') body.requested_actions = actions;
    return this.call({ method: 'POST', path: `/${op}`, body, kind: 'open', idempotent: true, signal: input.signal });
  }

  private async changeRevocation(action: 'revoke' | 'restore', input: RevocationInput): Promise<RevocationResult> {
    if (!input || typeof input.partnerId !== 'string') throw new ValidationError(`${action}: partnerId is required`, { code: 'VALIDATION_ERROR' });
    const body: Record<string, unknown> = { partner_id: input.partnerId };
    if (input.envelopeId !== undefined) body.envelope_id = input.envelopeId;
    const { body: res, requestId } = await this.call({
      method: 'POST',
      path: `/permissions/${action}`,
      body,
      kind: 'other',
      idempotent: true,
      signal: input.signal,
    });
    return { ...(camel(res) as unknown as Omit<RevocationResult, 'requestId'>), requestId };
  }

  /** An authenticated call on the client's path (managed: /v1 prefix), with one token renewal on 401. */
  private async call(spec: Omit<RequestSpec, 'headers'> & { path: string }): Promise<{ body: Record<string, unknown>; requestId: string | undefined }> {
    const auth = this.auth;
    if (!auth) throw new ValidationError('no auth provider: pass auth: login({...}), managed({...}) or bearerToken(...)', { code: 'CONFIG_ERROR' });
    const context = this.authContext(spec.signal);
    const path = auth.mode === 'managed' ? `/v1${spec.path}` : spec.path;
    const send = async () => {
      const headers = { ...(await auth.headers(context)), ...this.partnerHeaders() };
      const raw = await this.transport.send({ ...spec, path, headers });
      return { body: decodeResponse(spec.kind, raw), requestId: raw.requestId };
    };
    try {
      return await send();
    } catch (e) {
      // A token that expired in flight: renew once and repeat (the server did nothing with it).
      if (e instanceof AuthError && e.status === 401 && TOKEN_REJECTED.has(e.code) && auth.invalidate && (await auth.invalidate(context))) {
        return send();
      }
      throw e;
    }
  }

  private authContext(signal: AbortSignal | undefined): AuthContext {
    return { baseUrl: this.baseUrl, send: (spec: RequestSpec): Promise<RawResponse> => this.transport.send(spec), signal };
  }

  private partnerHeaders(): Record<string, string> {
    const c = this.options.credentials;
    if (!c || typeof c.apiKey !== 'string' || c.apiKey === '') {
      throw new ValidationError('credentials.apiKey is required (with accessKey and secretKey when the partner has them)', { code: 'CONFIG_ERROR' });
    }
    const h: Record<string, string> = { api_key: c.apiKey };
    if (c.accessKey !== undefined) h.access_key = c.accessKey;
    if (c.secretKey !== undefined) h.secret_key = c.secretKey;
    return h;
  }
}

function wireSealItem(where: string, item: SealItem): Record<string, unknown> {
  if (!item || typeof item.data !== 'string') throw new ValidationError(`${where}: data must be a string`, { code: 'VALIDATION_ERROR' });
  const body: Record<string, unknown> = { data: item.data };
  if (item.permissions?.length) body.permissions = wirePermissions(item.permissions);
  return body;
}

function batchOf<T>(op: string, input: { readonly items: readonly T[] }): readonly T[] {
  const items: unknown = input?.items;
  if (!Array.isArray(items) || items.length === 0) throw new ValidationError(`${op} batch: items must be a non-empty array`, { code: 'VALIDATION_ERROR' });
  return input.items;
}

/** The batch answer as one typed outcome per item; an answer that does not have one per item is not the API's. */
function batchResult<I, T>(
  body: Record<string, unknown>,
  items: readonly I[],
  kind: CallKind,
  requestId: string | undefined,
  decode: (result: Record<string, unknown>, item: I) => T,
): BatchResult<T> {
  const list = body.batch_results;
  if (!Array.isArray(list) || list.length !== items.length) {
    const got = Array.isArray(list) ? list.length : 'none';
    throw new RequestError(`the answer is not a batch answer: expected ${items.length} batch_results, got ${got}`, { code: 'INVALID_RESPONSE', requestId });
  }
  const results = list.map((entry: unknown, i): BatchItemResult<T> => {
    const result = isObject(entry) ? entry : {};
    if (isObject(result.error)) {
      const code = str(result.error.code) ?? 'INTERNAL_ERROR';
      const status = isErrorCode(code) ? errorSpec(code).status : 500;
      return { ok: false, error: errorFromResponse(kind, status, code, str(result.error.message) ?? code, { requestId }) };
    }
    return { ok: true, value: decode(result, items[i] as I) };
  });
  return { results, requestId };
}

function sealResult(body: Record<string, unknown>, requestId: string | undefined): SealResult {
  return { encryptedData: str(body.encrypted_data) ?? '', envelopeId: str(body.envelope_id) ?? '', requestId };
}

function decryptResult(body: Record<string, unknown>, requestId: string | undefined): DecryptResult {
  return { ...plaintext(body), signed: body.signed === true, requestId };
}

function decryptVerifyResult(body: Record<string, unknown>, encryptedData: string, requestId: string | undefined): DecryptVerifyResult {
  return {
    ...plaintext(body),
    signed: true,
    isValidSignature: body.is_valid_signature === true,
    signedBy: str(body.signed_by) ?? '',
    signedTimestamp: str(body.signed_timestamp) ?? '',
    repudiator: str(body.repudiator),
    signatureError: str(body.signature_error),
    signerOrgId: str(body.signer_org_id) ?? '',
    signerKeyId: str(body.signer_key_id) ?? '',
    signature: str(body.signature) ?? '',
    encryptedData,
    ...(isObject(body.batch_proof) ? { batchProof: camel(body.batch_proof) as unknown as BatchProofClaim } : {}),
    requestId,
  };
}

function wirePermissions(list: readonly Permission[]): Record<string, unknown>[] {
  return list.map((p, i) => {
    if (!p || typeof p.partnerId !== 'string' || p.partnerId === '')
      throw new ValidationError(`permissions[${i}].partnerId is required`, { code: 'VALIDATION_ERROR' });
    const entry: Record<string, unknown> = { partner_id: p.partnerId, permissions: [...(p.actions ?? ['read'])] };
    if (p.expiresAt !== undefined) entry.expires_at = instant(p.expiresAt);
    return entry;
  });
}

function plaintext(body: Record<string, unknown>): Omit<DecryptResult, 'requestId' | 'signed'> {
  return {
    decryptedData: str(body.decrypted_data) ?? '',
    envelopeId: str(body.envelope_id),
    dataEncoding: body.data_encoding === 'base64' ? 'base64' : undefined,
  };
}

function instant(v: string | Date | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v instanceof Date ? v.toISOString() : v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** snake_case keys to camelCase (one level; values unchanged). */
function camel(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(isObject(o) ? o : {})) out[k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())] = v;
  return out;
}

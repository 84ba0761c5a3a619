import type { KeyRing } from '../keys/key-ring.js';
import { bytesToHex } from '../crypto/bytes.js';
import { inspectEnvelopeHeader, isEnvelopeError, type EnvelopeHeader, type PermissionGrant } from '../envelope/index.js';
import { accessDenied } from '../permissions/errors.js';
import type { CryptoPool } from './crypto-pool.js';
import type { JsonResult, OpenResult, SealResult, WrappedSecretRef } from './crypto-tasks.js';
import type { OpenBatcher } from './open-batcher.js';
import type { SealBatcher } from './seal-batcher.js';
import type { JsonRoom } from './results.js';
import { serviceErrorFromCode, ServiceError } from '../common/service-error.js';

/**
 * The four operations of the Direct API, for an already authenticated caller. The organisation the
 * caller acts for owns the envelopes it creates (they are encrypted to its KEM key) and signs with its
 * signing key.
 *
 * Opening: the owner organisation always may. Another organisation may only if the envelope's
 * permission list grants it `read`, the grant has not expired and is not revoked (`PartnerAccess`);
 * the service then opens the envelope with the owner's KEM key on the partner's behalf. The decision
 * is taken on the not-yet-authenticated header, and the AEAD open that follows proves that header —
 * and so the list the decision used — is exactly what the owner sealed. The owner's path never
 * touches the revocation store.
 */

/** Filled in as an operation learns what it concerns, for the audit record (also on failure). */
export interface OperationTrace {
  envelopeId?: string | undefined;
  envelopeOwnerId?: string | undefined;
  partnerIds?: readonly string[] | undefined;
}

/** Decides whether a partner organisation may open another organisation's envelope (src/permissions/access.ts). */
export interface PartnerAuthoriser {
  authorise(partnerOrgId: string, header: EnvelopeHeader, envelopeId: string): Promise<void>;
}

export interface Caller {
  readonly userId: string;
  readonly username: string;
  readonly orgId: string;
  readonly credentialId: string;
}

export interface SealRequest {
  readonly data: string;
  readonly permissions: readonly PermissionGrant[];
}

export interface OperationsDeps {
  readonly keys: KeyRing;
  readonly pool: CryptoPool;
  /** Groups seals into v2 batches (one signature and one encapsulation per batch). */
  readonly batcher: SealBatcher;
  /** Groups opens into one crypto task while every worker is busy. */
  readonly opener: OpenBatcher;
  readonly orgName: (orgId: string) => Promise<string | undefined>;
  readonly partners: PartnerAuthoriser;
}

export class Operations {
  constructor(private readonly deps: OperationsDeps) {}

  // Each operation gives its result as JSON written by the crypto worker, with `room` free bytes
  // around it for the caller's framing (src/core/results.ts has the shapes).

  encrypt(caller: Caller, request: SealRequest, room: JsonRoom, trace: OperationTrace = {}): Promise<JsonResult> {
    return this.seal(caller, request, false, room, trace);
  }

  signEncrypt(caller: Caller, request: SealRequest, room: JsonRoom, trace: OperationTrace = {}): Promise<JsonResult> {
    return this.seal(caller, request, true, room, trace);
  }

  decrypt(caller: Caller, encryptedData: string, room: JsonRoom, trace: OperationTrace = {}): Promise<JsonResult> {
    return this.open(caller, encryptedData, false, room, trace);
  }

  decryptVerify(caller: Caller, encryptedData: string, room: JsonRoom, trace: OperationTrace = {}): Promise<JsonResult> {
    return this.open(caller, encryptedData, true, room, trace);
  }

  private async seal(caller: Caller, request: SealRequest, sign: boolean, room: JsonRoom, trace: OperationTrace): Promise<JsonResult> {
    trace.envelopeOwnerId = caller.orgId;
    trace.partnerIds = request.permissions.map((g) => g.partnerId);
    const keys = await this.deps.keys.active(caller.orgId);
    if (!keys) throw new ServiceError('ORG_KEYS_MISSING');
    const displayName = sign ? await this.deps.orgName(caller.orgId) : undefined;
    const result: SealResult = await this.deps.batcher.seal(
      { orgId: caller.orgId, kemKeyId: keys.kem.id, publicKey: keys.kem.publicKey },
      sign
        ? { orgId: caller.orgId, displayName: displayName ?? caller.orgId, key: { keyId: keys.signing.id, wrappedSecret: keys.signing.wrappedSecret } }
        : undefined,
      { plaintext: request.data, permissions: request.permissions, room },
    );
    if (result.kind === 'error') throw envelopeFailure(result.code, result.message);
    trace.envelopeId = result.envelopeId;
    return { json: result.json, envelopeId: result.envelopeId };
  }

  private async open(caller: Caller, encryptedData: string, verify: boolean, room: JsonRoom, trace: OperationTrace): Promise<JsonResult> {
    const kemKey = await this.openableKey(caller, encryptedData, trace);
    return this.finishOpen(await this.deps.opener.open({ envelope: encryptedData, kemKey, verify, room }), room);
  }

  /**
   * The batch API's seal: every item in ONE v2 batch — one encapsulation, and for sign-encrypt one
   * Merkle-batch signature — each item failing alone.
   */
  async sealMany(caller: Caller, requests: readonly SealRequest[], sign: boolean, traces: OperationTrace[]): Promise<BatchItemOutcome[]> {
    requests.forEach((request, i) => {
      const trace = (traces[i] ??= {});
      trace.envelopeOwnerId = caller.orgId;
      trace.partnerIds = request.permissions.map((g) => g.partnerId);
    });
    if (requests.length === 0) return [];
    const keys = await this.deps.keys.active(caller.orgId);
    if (!keys) throw new ServiceError('ORG_KEYS_MISSING');
    const displayName = sign ? await this.deps.orgName(caller.orgId) : undefined;
    const results = await this.deps.batcher.sealNow(
      { orgId: caller.orgId, kemKeyId: keys.kem.id, publicKey: keys.kem.publicKey },
      sign
        ? { orgId: caller.orgId, displayName: displayName ?? caller.orgId, key: { keyId: keys.signing.id, wrappedSecret: keys.signing.wrappedSecret } }
        : undefined,
      requests.map((r) => ({ plaintext: r.data, permissions: r.permissions, room: NO_ROOM })),
    );
    return results.map((result, i): BatchItemOutcome => {
      if (result.kind === 'error') return { ok: false, error: envelopeFailure(result.code, result.message) };
      (traces[i] as OperationTrace).envelopeId = result.envelopeId;
      return { ok: true, json: result.json, envelopeId: result.envelopeId };
    });
  }

  /** The batch API's open: access decided per item, then one crypto task for every openable item. */
  async openMany(caller: Caller, envelopes: readonly string[], verify: boolean, traces: OperationTrace[]): Promise<BatchItemOutcome[]> {
    const outcomes: BatchItemOutcome[] = new Array<BatchItemOutcome>(envelopes.length);
    const keys = await Promise.all(
      envelopes.map(async (envelope, i) => {
        try {
          return await this.openableKey(caller, envelope, (traces[i] ??= {}));
        } catch (error) {
          outcomes[i] = itemFailure(error);
          return undefined;
        }
      }),
    );
    const openable = envelopes.flatMap((envelope, i) => {
      const kemKey = keys[i];
      return kemKey ? [{ index: i, item: { envelope, kemKey, verify, room: NO_ROOM } }] : [];
    });
    if (openable.length === 0) return outcomes;
    const answer = await this.deps.pool.openBatch({ items: openable.map((o) => o.item) });
    const results = answer.kind === 'error' ? openable.map(() => answer) : answer.results;
    // Items whose signer key the worker lacked each need a verify task: at most one per worker thread
    // at a time, so a batch of 1,000 never fills the crypto queue (SERVICE_BUSY for the whole call).
    let next = 0;
    const finish = async (): Promise<void> => {
      while (next < openable.length) {
        const j = next++;
        const { index } = openable[j] as (typeof openable)[number];
        try {
          outcomes[index] = { ok: true, ...(await this.finishOpen(results[j] as OpenResult, NO_ROOM)) };
        } catch (error) {
          outcomes[index] = itemFailure(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.pool.threads, openable.length) }, finish));
    return outcomes;
  }

  /** Decides on the (not yet authenticated) header whether the caller may open it, and with which key. */
  private async openableKey(caller: Caller, encryptedData: string, trace: OperationTrace): Promise<WrappedSecretRef> {
    let header: EnvelopeHeader;
    try {
      header = inspectEnvelopeHeader(encryptedData);
    } catch (e) {
      if (isEnvelopeError(e)) throw envelopeFailure(e.code, e.message);
      throw e;
    }
    const envelopeId = bytesToHex(header.envelopeId);
    trace.envelopeId = envelopeId;
    trace.envelopeOwnerId = header.ownerOrgId;
    if (header.ownerOrgId !== caller.orgId) {
      trace.partnerIds = [caller.orgId];
      await this.deps.partners.authorise(caller.orgId, header, envelopeId);
    }
    const kem = await this.deps.keys.byId(header.kemKeyId);
    if (!kem || kem.orgId !== header.ownerOrgId || kem.kind !== 'kem') throw accessDenied();
    return { keyId: kem.id, wrappedSecret: kem.wrappedSecret };
  }

  private async finishOpen(result: OpenResult, room: JsonRoom): Promise<JsonResult> {
    if (result.kind === 'error') throw envelopeFailure(result.code, result.message);
    if (result.kind === 'not-signed') {
      throw new ServiceError('ENVELOPE_NOT_SIGNED');
    }
    if (result.kind === 'opened') return { json: result.json, envelopeId: result.envelopeId };
    // Decrypted, but the worker does not hold the signer's key yet: the store says whether that
    // organisation owns a signing key by that id, and a worker checks the signature without decrypting again.
    const { claimed } = result.pending;
    const signer = await this.deps.keys.byId(claimed.signerKeyId);
    const known = signer && signer.kind === 'signing' && signer.orgId === claimed.signerOrgId ? signer.publicKey : null;
    const verified = await this.deps.pool.verify({ pending: result.pending, signerPublicKey: known, room });
    if (verified.kind === 'error') throw envelopeFailure(verified.code, verified.message);
    return { json: verified.json, envelopeId: verified.envelopeId };
  }
}

/** One item of a batch API call: the single-item result's JSON (no framing room), or why it failed. */
export type BatchItemOutcome =
  { readonly ok: true; readonly json: Uint8Array; readonly envelopeId: string } | { readonly ok: false; readonly error: ServiceError };

const NO_ROOM: JsonRoom = { before: 0, after: 0 };

/** An item's own failure (a ServiceError); anything else — the store down, a bug — fails the whole call. */
function itemFailure(error: unknown): BatchItemOutcome {
  if (error instanceof ServiceError) return { ok: false, error: error as ServiceError };
  throw error;
}

/** Same answer whether the envelope is foreign, names the caller, or does not exist for it. */
export { accessDenied };

function envelopeFailure(code: string, message: string): ServiceError {
  return serviceErrorFromCode(code, message);
}

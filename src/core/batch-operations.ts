import type { ServiceError } from '../common/service-error.js';
import { asServiceError } from './item-errors.js';
import type { Caller, OperationTrace, Operations, SealRequest } from './operations.js';
import type { JsonResult } from './crypto-tasks.js';
import type { JsonRoom } from './results.js';

/**
 * The operations over a batch of items (the `batch_input` of the API): one outcome per item, in
 * order, and a failed item never fails the others. Today each item is its own single operation
 * (src/core/operations.ts); `traces[i]` is filled for item i as the single operation fills its trace.
 */

export type BatchItemOutcome =
  | { readonly ok: true; readonly json: Uint8Array; readonly envelopeId: string } // the single-item result object's JSON (UTF-8), no framing
  | { readonly ok: false; readonly error: ServiceError };

/** No room around an item's JSON: items are joined into the batch answer, not framed one by one. */
const NO_ROOM: JsonRoom = { before: 0, after: 0 };

/**
 * Items in flight at once. The crypto pool refuses tasks past its queue limit (threads × 64 by
 * default, src/core/crypto-pool.ts): a batch of 1,000 started all at once would mostly fail SERVICE_BUSY.
 */
const CONCURRENCY = 16;

export function sealMany(
  ops: Operations,
  caller: Caller,
  requests: readonly SealRequest[],
  sign: boolean,
  traces: OperationTrace[],
): Promise<BatchItemOutcome[]> {
  return each(requests.length, (i) => {
    const trace = (traces[i] ??= {});
    const request = requests[i] as SealRequest;
    return sign ? ops.signEncrypt(caller, request, NO_ROOM, trace) : ops.encrypt(caller, request, NO_ROOM, trace);
  });
}

export function openMany(
  ops: Operations,
  caller: Caller,
  envelopes: readonly string[],
  verify: boolean,
  traces: OperationTrace[],
): Promise<BatchItemOutcome[]> {
  return each(envelopes.length, (i) => {
    const trace = (traces[i] ??= {});
    const envelope = envelopes[i] as string;
    return verify ? ops.decryptVerify(caller, envelope, NO_ROOM, trace) : ops.decrypt(caller, envelope, NO_ROOM, trace);
  });
}

/** Runs `run(0 … count-1)`, at most `CONCURRENCY` at a time, each item's failure caught as its outcome. */
async function each(count: number, run: (i: number) => Promise<JsonResult>): Promise<BatchItemOutcome[]> {
  const outcomes = new Array<BatchItemOutcome>(count);
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        const { json, envelopeId } = await run(i);
        outcomes[i] = { ok: true, json, envelopeId };
      } catch (e) {
        outcomes[i] = { ok: false, error: asServiceError(e) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, runner));
  return outcomes;
}

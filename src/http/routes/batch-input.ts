import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BatchItemOutcome, Caller, OperationTrace, SealRequest } from '../../core/operations.js';
import { ServiceError, validationError } from '../../common/service-error.js';
import type { WirePermission } from '../../permissions/policy.js';
import type { AuditItem } from '../audit-hooks.js';
import type { JsonFrame } from '../answers.js';
import { schemaErrorMessage } from '../error-mapping.js';
import { openItem, sealItem } from '../schemas.js';
import type { HttpServices } from '../services.js';

/**
 * `batch_input` on the four operations, in the shape of Vault Transit: one result per item, in order,
 * in `batch_results` — the single-item result, or `{"error": {"code", "message"}}` for an item that
 * failed; one bad item never fails the others. A batch as a whole is refused (4xx, one audit record)
 * only before any item is worked on: too many items or bytes, or the caller's rate limit, which
 * counts items, not requests.
 */

export type Operation = 'encrypt' | 'sign-encrypt' | 'decrypt' | 'decrypt-verify';

export interface WireSealItem {
  readonly data: string;
  readonly permissions?: readonly WirePermission[];
}
export interface WireOpenItem {
  readonly encrypted_data: string;
}

const SINGLE_FIELDS: Record<Operation, readonly string[]> = {
  encrypt: ['data', 'permissions'],
  'sign-encrypt': ['data', 'permissions'],
  decrypt: ['encrypted_data', 'permissions'],
  'decrypt-verify': ['encrypted_data', 'permissions'],
};

/**
 * The items of a batch body, or undefined for a single-item body. The schema requires neither shape
 * (src/http/schemas.ts): this says which one is missing, or that both were given.
 */
export function batchItems(op: Operation, body: Record<string, unknown>): readonly Record<string, unknown>[] | undefined {
  const single = SINGLE_FIELDS[op].filter((field) => field in body);
  if (body.batch_input === undefined) {
    const required = SINGLE_FIELDS[op][0] as string;
    if (!(required in body)) throw validationError(`body: missing required field "${required}" (or batch_input for a batch)`);
    return undefined;
  }
  if (single.length > 0) {
    throw validationError(
      `body: give either batch_input or the single-item fields, not both (found ${single.map((f) => `"${f}"`).join(', ')} beside batch_input)`,
    );
  }
  return body.batch_input as Record<string, unknown>[];
}

/** Refuses a batch over the configured limits (413 BATCH_TOO_LARGE) before anything is done. */
export function checkBatchLimits(services: HttpServices, items: readonly Record<string, unknown>[]): void {
  const { batchMaxItems, batchMaxBytes } = services.config;
  if (items.length > batchMaxItems) {
    throw new ServiceError('BATCH_TOO_LARGE', `batch_input has ${items.length} items; at most ${batchMaxItems} are accepted`);
  }
  let bytes = 0;
  for (const item of items) {
    const field = item.data ?? item.encrypted_data;
    if (typeof field === 'string') bytes += Buffer.byteLength(field);
  }
  if (bytes > batchMaxBytes) {
    throw new ServiceError('BATCH_TOO_LARGE', `batch_input carries ${bytes} bytes of data; at most ${batchMaxBytes} are accepted`);
  }
}

/**
 * The outcome of each item, in order, with one audit item each on `request.audit`. Each item is
 * checked against its own schema and (for seals) its permissions first: an item that fails that is
 * an error outcome, the others run.
 */
export async function performBatch(
  services: HttpServices,
  op: Operation,
  caller: Caller,
  items: readonly Record<string, unknown>[],
  request: FastifyRequest,
): Promise<BatchItemOutcome[]> {
  const sealing = op === 'encrypt' || op === 'sign-encrypt';
  const validate = request.compileValidationSchema(sealing ? sealItem : openItem);
  const outcomes = new Array<BatchItemOutcome>(items.length);
  const traces: OperationTrace[] = items.map(() => ({}));
  const requests = new Array<SealRequest | undefined>(items.length);
  const runnable: number[] = [];

  await Promise.all(
    items.map(async (item, i) => {
      if (validate(item) !== true) {
        const message = schemaErrorMessage(validate.errors, `batch_input[${i}]`) ?? `batch_input[${i}] is not valid`;
        outcomes[i] = { ok: false, error: validationError(message) };
        return;
      }
      if (!sealing) return;
      const trace = traces[i] as OperationTrace;
      const permissions = (item as unknown as WireSealItem).permissions ?? [];
      trace.envelopeOwnerId = caller.orgId;
      trace.partnerIds = permissions.map((p) => p.partner_id);
      try {
        requests[i] = { data: (item as unknown as WireSealItem).data, permissions: await services.permissions.validate(caller, permissions) };
      } catch (e) {
        // A refused permission list is the item's fault; the store down is not, and fails the call.
        if (!(e instanceof ServiceError)) throw e;
        outcomes[i] = { ok: false, error: e as ServiceError };
      }
    }),
  );
  for (let i = 0; i < items.length; i++) if (outcomes[i] === undefined) runnable.push(i);

  const runTraces = runnable.map((i) => traces[i] as OperationTrace);
  const results = sealing
    ? await services.operations.sealMany(
        caller,
        runnable.map((i) => requests[i] as SealRequest),
        op === 'sign-encrypt',
        runTraces,
      )
    : await services.operations.openMany(
        caller,
        runnable.map((i) => (items[i] as unknown as WireOpenItem).encrypted_data),
        op === 'decrypt-verify',
        runTraces,
      );
  runnable.forEach((index, k) => (outcomes[index] = results[k] as BatchItemOutcome));

  if (request.audit) request.audit.batchItems = outcomes.map((o, i): AuditItem => ({ ...traces[i], errorCode: o.ok ? undefined : o.error.code }));
  return outcomes;
}

const OPEN = Buffer.from('{"batch_results":[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']}');

/** Answers 200 with the items' JSON joined in place: no result is parsed or stringified again. */
export function sendBatch(reply: FastifyReply, outcomes: readonly BatchItemOutcome[], frame: JsonFrame): FastifyReply {
  const parts: Uint8Array[] = [Buffer.from(frame.prefix), OPEN];
  outcomes.forEach((outcome, i) => {
    if (i > 0) parts.push(COMMA);
    parts.push(outcome.ok ? outcome.json : Buffer.from(JSON.stringify({ error: { code: outcome.error.code, message: outcome.error.message } })));
  });
  parts.push(CLOSE, Buffer.from(frame.suffix));
  return reply.type('application/json; charset=utf-8').send(Buffer.concat(parts));
}

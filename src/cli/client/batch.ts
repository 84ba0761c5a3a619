import type { BatchResult, Client, DecryptResult, DecryptVerifyResult, Permission, PqsealError, SealItem, SealResult } from '@pqseal/sdk';
import { EXIT, exitCodeOf } from './exit.js';
import { InputError, readInput, writeOutput } from './io.js';

/**
 * `--batch <path|->` of the four operations: one JSON item per line (the API's batch_input items:
 * `{"data", "permissions"}` or `{"encrypted_data"}`), sent as one batch; one JSON line per result, in
 * order — the result as `--json` prints it, or `{"error": {"code", "message"}}`. Exit 0 when every
 * item succeeded, else the exit code of the first item that failed (a decrypt-verify whose signature
 * does not hold counts as failed, 4).
 */

type Operation = 'encrypt' | 'sign-encrypt' | 'decrypt' | 'decrypt-verify';
type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Flags that describe one item, which a batch carries in its lines instead. */
const SINGLE_ITEM_FLAGS = ['data', 'file', 'partner', 'actions', 'expires', 'base64', 'verify-offline', 'public-keys'];

export async function runBatch(op: Operation, v: Values, client: Client): Promise<number> {
  const given = SINGLE_ITEM_FLAGS.filter((flag) => v[flag] !== undefined);
  if (given.length > 0) throw new InputError(`--batch takes each item from its lines: drop ${given.map((f) => `--${f}`).join(', ')}`);
  const source = v.batch as string;
  const { bytes } = await readInput(source === '-' ? {} : { file: source }, 'batch');
  const lines = parseLines(new TextDecoder().decode(bytes));
  const out = typeof v.out === 'string' ? v.out : undefined;

  let printed: { lines: string[]; code: number };
  if (op === 'encrypt' || op === 'sign-encrypt') {
    const items = lines.map(({ line, value }) => sealItem(line, value));
    const batch = await (op === 'encrypt' ? client.encryptBatch({ items }) : client.signEncryptBatch({ items }));
    printed = print(batch, (r: SealResult) => [{ encrypted_data: r.encryptedData, envelope_id: r.envelopeId }, true]);
  } else {
    const items = lines.map(({ line, value }) => openItem(line, value));
    printed =
      op === 'decrypt'
        ? print(await client.decryptBatch({ items }), (r: DecryptResult) => [wireDecrypt(r), true])
        : print(await client.decryptVerifyBatch({ items }), (r: DecryptVerifyResult) => [wireVerify(r), r.isValidSignature]);
  }
  writeOutput(printed.lines.map((l) => `${l}\n`).join(''), out, false);
  return printed.code;
}

function parseLines(text: string): { line: number; value: Record<string, unknown> }[] {
  const items: { line: number; value: Record<string, unknown> }[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new InputError(`--batch line ${i + 1} is not JSON`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InputError(`--batch line ${i + 1} is not a JSON object`);
    items.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  if (items.length === 0) throw new InputError('--batch: no items (one JSON object per line)');
  return items;
}

function sealItem(line: number, value: Record<string, unknown>): SealItem {
  if (typeof value.data !== 'string') throw new InputError(`--batch line ${line}: "data" must be a string`);
  if (value.permissions === undefined) return { data: value.data };
  if (!Array.isArray(value.permissions)) throw new InputError(`--batch line ${line}: "permissions" must be a list`);
  const permissions = value.permissions.map((p: unknown): Permission => {
    const entry = (p ?? {}) as { partner_id?: unknown; permissions?: unknown; expires_at?: unknown };
    if (typeof entry.partner_id !== 'string') throw new InputError(`--batch line ${line}: each permission needs a "partner_id"`);
    return {
      partnerId: entry.partner_id,
      ...(Array.isArray(entry.permissions) ? { actions: entry.permissions as string[] } : {}),
      ...(typeof entry.expires_at === 'string' ? { expiresAt: entry.expires_at } : {}),
    };
  });
  return { data: value.data, permissions };
}

function openItem(line: number, value: Record<string, unknown>): { encryptedData: string } {
  if (typeof value.encrypted_data !== 'string' || value.encrypted_data === '') {
    throw new InputError(`--batch line ${line}: "encrypted_data" must be a non-empty string`);
  }
  return { encryptedData: value.encrypted_data };
}

/** One JSON line per item, and the exit code: that of the first item that failed. */
function print<T>(batch: BatchResult<T>, wire: (value: T) => [Record<string, unknown>, boolean]): { lines: string[]; code: number } {
  let code: number = EXIT.ok;
  const lines = batch.results.map((result) => {
    if (!result.ok) {
      const error: PqsealError = result.error;
      if (code === EXIT.ok) code = exitCodeOf(error);
      return JSON.stringify({ error: { code: error.code, message: error.message } });
    }
    const [value, good] = wire(result.value);
    if (!good && code === EXIT.ok) code = EXIT.verification;
    return JSON.stringify(value);
  });
  return { lines, code };
}

function wireDecrypt(r: DecryptResult): Record<string, unknown> {
  return { decrypted_data: r.decryptedData, envelope_id: r.envelopeId, signed: r.signed, ...(r.dataEncoding ? { data_encoding: r.dataEncoding } : {}) };
}

export function wireVerify(r: DecryptVerifyResult): Record<string, unknown> {
  return {
    decrypted_data: r.decryptedData,
    envelope_id: r.envelopeId,
    ...(r.dataEncoding ? { data_encoding: r.dataEncoding } : {}),
    is_valid_signature: r.isValidSignature,
    signed_by: r.signedBy,
    signed_timestamp: r.signedTimestamp,
    signer_org_id: r.signerOrgId,
    signer_key_id: r.signerKeyId,
    signature: r.signature,
    ...(r.repudiator !== undefined ? { repudiator: r.repudiator } : {}),
    ...(r.signatureError !== undefined ? { signature_error: r.signatureError } : {}),
  };
}

import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import type { PublicKeyDocument } from '../keys/public-key-document.js';
import type { Database } from '../ports/store-schema.js';
import { chainHeads, chainRecords } from './chain-store.js';
import { checkpointFromJson, type Checkpoint } from './checkpoints.js';
import type { AuditRecord } from './record.js';

/**
 * The export file (JSON Lines) carries one chain with everything needed to verify it offline:
 *
 *   {"type":"header","format":"pqseal-audit-export-v1","chain_id":…,"exported_at":…,"head":{seq,hash},"service_keys":{…GET /v1/keys/service…}}
 *   {"type":"record", …record fields…, "hash":…}          one per record, seq order
 *   {"type":"checkpoint","chain_id","seq","hash","signed_at","key_id","format","prev","signature"}   (format 1 lines may lack format and prev)
 *
 * The embedded service key is for convenience only: verify against a copy of the service key
 * obtained independently (`--service-key`), or the file proves nothing an editor could not forge.
 */

export const EXPORT_FORMAT = 'pqseal-audit-export-v1';

export interface ExportHeader {
  readonly type: 'header';
  readonly format: typeof EXPORT_FORMAT;
  readonly chain_id: string;
  readonly exported_at: string;
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly service_keys: PublicKeyDocument;
}

export interface ParsedExport {
  readonly header: ExportHeader;
  readonly records: AuditRecord[];
  readonly checkpoints: Checkpoint[];
}

export class ExportFormatError extends Error {
  readonly code = 'EXPORT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ExportFormatError';
  }
}

/** Where the export goes (the CLI passes a private file replacement, src/cli/private-file.ts). */
export interface ExportSink {
  write(text: string): void;
}

/** Lines are handed to the sink in batches of about this many characters. */
const EXPORT_BATCH_CHARS = 64 * 1024;

export async function writeExport(
  db: Kysely<Database>,
  chainId: string,
  out: ExportSink,
  extras: { readonly checkpoints: readonly Checkpoint[]; readonly serviceKeys: PublicKeyDocument; readonly now: number },
): Promise<{ records: number; checkpoints: number }> {
  const [head] = await chainHeads(db, chainId);
  const header: ExportHeader = {
    type: 'header',
    format: EXPORT_FORMAT,
    chain_id: chainId,
    exported_at: new Date(extras.now).toISOString(),
    head: head ? { seq: head.seq, hash: head.hash } : null,
    service_keys: extras.serviceKeys,
  };
  let batch = '';
  const write = (line: object): void => {
    batch += `${JSON.stringify(line)}\n`;
    if (batch.length >= EXPORT_BATCH_CHARS) {
      out.write(batch);
      batch = '';
    }
  };
  let records = 0;
  write(header);
  for await (const record of chainRecords(db, chainId)) {
    write({ type: 'record', ...record });
    records++;
  }
  for (const cp of extras.checkpoints) write({ type: 'checkpoint', ...cp });
  if (batch) out.write(batch);
  return { records, checkpoints: extras.checkpoints.length };
}

export async function readExport(path: string): Promise<ParsedExport> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
  let header: ExportHeader | undefined;
  const records: AuditRecord[] = [];
  const checkpoints: Checkpoint[] = [];
  for (const [i, line] of lines.entries()) {
    let value: { type?: unknown } & Record<string, unknown>;
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      throw new ExportFormatError(`line ${i + 1} is not JSON`);
    }
    const { type, ...rest } = value;
    if (type === 'header' && i === 0) header = value as unknown as ExportHeader;
    else if (type === 'record') records.push(rest as unknown as AuditRecord);
    else if (type === 'checkpoint') {
      const cp = checkpointFromJson(rest);
      if (!cp) throw new ExportFormatError(`line ${i + 1}: not a checkpoint`);
      checkpoints.push(cp);
    } else throw new ExportFormatError(`line ${i + 1}: unexpected line type ${JSON.stringify(type)}`);
  }
  if (!header || header.format !== EXPORT_FORMAT) throw new ExportFormatError(`not a ${EXPORT_FORMAT} file (first line must be its header)`);
  return { header, records, checkpoints };
}

import { readCheckpointLines } from './checkpoint-sink.js';
import { EXPORT_FORMAT, ExportFormatError } from './export.js';
import type { TrustedAnchor } from './verify.js';

/**
 * What an auditor kept, as anchors per chain for `pqseal audit verify --trusted FILE`: FILE is an
 * earlier export (its last record, and its checkpoints), a PQSEAL_CHECKPOINT_SINK file, or lines of
 * published checkpoints. Today's chain must hold each anchored record with the same hash.
 */

export type TrustedAnchors = ReadonlyMap<string, TrustedAnchor[]>;

export async function readTrustedFile(path: string): Promise<TrustedAnchors> {
  const { checkpoints, other, malformed } = await readCheckpointLines(path);
  if (malformed > 0) throw new ExportFormatError(`${malformed} line(s) are neither an export's lines nor checkpoints`);
  const anchors = new Map<string, TrustedAnchor[]>();
  const add = (chainId: string, anchor: TrustedAnchor) => anchors.set(chainId, [...(anchors.get(chainId) ?? []), anchor]);
  for (const cp of checkpoints) add(cp.chain_id, { seq: cp.seq, hash: cp.hash, checkpoint: cp });

  const header = other.find((line) => line.type === 'header');
  if (header && header.format !== EXPORT_FORMAT) throw new ExportFormatError(`the header is not ${EXPORT_FORMAT}`);
  let last: { seq: number; hash: string } | undefined;
  for (const line of other) {
    if (line.type === 'header') continue;
    if (line.type !== 'record' || !header) throw new ExportFormatError(`unexpected line type ${JSON.stringify(line.type)}`);
    const { seq, hash, chain_id } = line;
    if (typeof seq !== 'number' || typeof hash !== 'string' || chain_id !== header.chain_id)
      throw new ExportFormatError(`a record line is not a record of chain ${String(header.chain_id)}`);
    if (!last || seq > last.seq) last = { seq, hash };
  }
  if (header && typeof header.chain_id === 'string') {
    if (last) add(header.chain_id, last);
    else anchors.set(header.chain_id, anchors.get(header.chain_id) ?? []);
  }
  if (anchors.size === 0) throw new ExportFormatError('it holds no export and no checkpoint');
  return anchors;
}

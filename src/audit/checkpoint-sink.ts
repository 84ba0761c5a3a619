import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { checkpointFromJson, type Checkpoint } from './checkpoints.js';

/**
 * PQSEAL_CHECKPOINT_SINK: every checkpoint, as it is made, appended as one JSON line and fsync'd —
 * a file to ship off the host (the idea of CloudTrail's chained digest files). The line is the
 * export's checkpoint line, so `pqseal audit verify --trusted <sink>` accepts the file as it is.
 */

export function sinkLine(cp: Checkpoint): string {
  return `${JSON.stringify({ type: 'checkpoint', ...cp })}\n`;
}

export async function appendToSink(path: string, checkpoints: readonly Checkpoint[]): Promise<void> {
  if (checkpoints.length === 0) return;
  const file = await open(path, 'a', 0o600);
  try {
    await file.appendFile(checkpoints.map(sinkLine).join(''), 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * Checkpoints in a JSON Lines file (a sink, or an export's checkpoint lines); other lines are
 * returned as `other` so the caller decides what they mean. A missing file is empty.
 */
export async function readCheckpointLines(path: string): Promise<{ checkpoints: Checkpoint[]; other: Record<string, unknown>[]; malformed: number }> {
  const checkpoints: Checkpoint[] = [];
  const other: Record<string, unknown>[] = [];
  let malformed = 0;
  const stream = createReadStream(path, { encoding: 'utf8' });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { checkpoints, other, malformed };
    throw error;
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      malformed++;
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      malformed++;
      continue;
    }
    const object = value as Record<string, unknown>;
    const cp = object.type === 'checkpoint' || object.type === undefined ? checkpointFromJson(object) : undefined;
    if (cp) checkpoints.push(cp);
    else if (object.type === 'checkpoint') malformed++;
    else other.push(object);
  }
  return { checkpoints, other, malformed };
}

import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection } from '../store/sqlite-connection.js';
import { runWorkerStartup, type WorkerStartup } from '../common/worker-startup.js';
import { chainAppender } from './chain-appender.js';
import type { AppendReply, AppendRequest } from './append-thread.js';

/**
 * The audit log's writer thread: its own connection to the store file, so the group-commit
 * transaction — and the fsync that `synchronous = FULL` makes every commit wait for — never runs on
 * the event loop. One batch at a time, in arrival order.
 */

const { filename, startup } = workerData as { filename: string; startup?: WorkerStartup };
await runWorkerStartup(startup);
const connection = openSqliteConnection(filename);
const append = chainAppender(connection.raw);
const port = parentPort;
if (!port) throw new Error('append-thread-worker must run as a worker thread');

// Messages are handled one at a time and the append is synchronous: batches commit in arrival order.
port.on('message', (request: AppendRequest) => {
  if (request.kind === 'close') {
    connection.close();
    port.postMessage({ kind: 'closed' } satisfies AppendReply);
    port.close();
    return;
  }
  try {
    port.postMessage({ kind: 'appended', id: request.id, records: append(request.events) } satisfies AppendReply);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    port.postMessage({ kind: 'failed', id: request.id, message, code: typeof code === 'string' ? code : undefined } satisfies AppendReply);
  }
});

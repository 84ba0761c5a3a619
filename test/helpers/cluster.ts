import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { freePort } from '../../bench/lib/load-server.js';
import { collectLog } from './redaction.js';
import { tempDir } from './server.js';

const CLI = new URL('../../../bin/pqseal.js', import.meta.url).pathname;

/** `pqseal serve` as its own process (a cluster when PQSEAL_PROCESSES > 1), with its output collected. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dataDir: string;
  /** Every line the process wrote to stdout and stderr (log lines are checked for secrets). */
  readonly output: string[];
  /** Resolves with the first line matching `predicate` (past lines included). */
  waitForLine(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export { freePort };

export async function spawnServe(env: Record<string, string>, options: { dataDir?: string; port?: number } = {}): Promise<ServeProcess> {
  const dataDir = options.dataDir ?? tempDir('pqseal-cluster-');
  const port = options.port ?? (await freePort());
  const output: string[] = [];
  // The JSON log lines are checked for every registered secret after the file's last test; the banner
  // (which shows the demo secrets on purpose) is not a log line.
  const logLines = collectLog(`pqseal serve on ${dataDir}`);
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', PQSEAL_WORKERS: '1', PQSEAL_LOGIN_BURST_PER_ADDRESS: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { predicate: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      if (line.startsWith('{')) logLines.push(line);
      for (const w of [...waiters]) {
        if (!w.predicate(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLine = (predicate: (line: string) => boolean, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const seen = output.find(predicate);
      if (seen !== undefined) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no such line within ${timeoutMs} ms; output:\n${output.slice(-30).join('\n')}`)), timeoutMs);
      waiters.push({ predicate, resolve: (line) => (clearTimeout(timer), resolve(line)) });
    });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    output,
    waitForLine,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Log lines as objects (non-JSON lines skipped). */
export function logRecords(output: readonly string[]): Record<string, unknown>[] {
  return output.flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** One request on a connection of its own (no keep-alive), so node:cluster hands each to the next process. */
export function freshConnectionPost(url: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', connection: 'close', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
